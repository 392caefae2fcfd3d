// Applied by SPFx's webpack-patch plugin (config/webpack-patch.json).
//
// Web Chat's ES module builds (e.g. botframework-webchat-api/dist/*.mjs) have UMD libraries
// (globalize) inlined that ask `typeof define === "function" && define.amd`. Webpack leaves a
// free `define` alone inside an ES module, so on a SharePoint page, which has a global AMD
// `define`, they hand themselves to the page's loader instead of returning their exports, and
// Web Chat breaks as it loads ("Mismatched anonymous define()", "... is not a function"; Web Chat
// 4.17+ in SPFx). The loader below shadows `define` in those modules only, so their UMD wrappers
// take the CommonJS branch, which webpack bundles as usual.
'use strict';

const path = require('path');

module.exports = function hideAmdDefine(config) {
  config.module = config.module || {};
  config.module.rules = config.module.rules || [];
  config.module.rules.unshift({
    test: /\.m?js$/,
    include: /[\\/]node_modules[\\/]/,
    enforce: 'pre',
    use: [{ loader: path.resolve(__dirname, 'hide-amd-define-loader.js') }]
  });
  return config;
};
