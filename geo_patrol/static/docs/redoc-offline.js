// Loaded before ReDoc's standalone bundle on /redoc. ReDoc 2 draws the Redocly logo under
// its menu from https://cdn.redoc.ly, an outside address the page's policy refuses (and an
// intranet cannot reach): the logo's address is never set (React sets it both as an
// attribute and as the property), and the image stays hidden.
// Search is switched off in the page (the `disable-search` attribute): ReDoc would run it
// in a worker made from a blob of code, which a script-src without inline code refuses.
"use strict";
(function () {
  var LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && name === "src" && String(value) === LOGO) {
      this.hidden = true;
      return;
    }
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      if (String(value) === LOGO) {
        this.hidden = true;
        return;
      }
      src.set.call(this, value);
    },
  });
})();
