// Starts Swagger UI on /docs (a file of ours rather than an inline script, so the page's
// Content-Security-Policy needs no 'unsafe-inline' for scripts). The OpenAPI document's URL
// is the element's data-openapi-url; no validator badge (it would call validator.swagger.io).
"use strict";
(function () {
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
})();
