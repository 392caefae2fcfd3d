// See hide-amd-define.js. Prefixes `var define;` (on the first line, so line numbers stay) to
// ES modules from node_modules that test for an AMD `define`; leaves every other module as is.
'use strict';

module.exports = function hideAmdDefineLoader(source, map) {
  const isEsm =
    /\.mjs$/.test(this.resourcePath) || (this._module && this._module.type === 'javascript/esm');
  if (isEsm && /\bdefine\.amd\b/.test(source)) {
    this.callback(null, 'var define = undefined; ' + source, map);
    return;
  }
  this.callback(null, source, map);
};
