// Starts Swagger UI on /docs. A served file, not an inline script: obsvty's Content-Security-Policy
// allows scripts from its own origin only. No validator badge: it would call validator.swagger.io.
"use strict";

(function start() {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
  });
})();
