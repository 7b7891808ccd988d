// Runs a generated Expo config plugin through the real @expo/config-plugins: applies it to an
// Expo config, then calls the Android manifest and iOS Info.plist mods it registered on a
// sample AndroidManifest.xml and Info.plist, as `expo prebuild` does, and writes the results.
// Usage: node run_plugin.js NODE_MODULES PLUGIN PROPS_JSON TIMES MANIFEST_IN PLIST_IN MANIFEST_OUT PLIST_OUT
'use strict';
const fs = require('fs');
const path = require('path');

const [nodeModules, pluginPath, propsJson, times, manifestIn, plistIn, manifestOut, plistOut] = process.argv.slice(2);
const { AndroidConfig } = require(path.join(nodeModules, '@expo/config-plugins'));
const plist = require(path.join(nodeModules, '@expo/plist')).default;
const withPaymentWebView = require(pluginPath);

(async () => {
  let config = { name: 'Shop', slug: 'shop' };
  for (let i = 0; i < Number(times); i++) {
    config = withPaymentWebView(config, JSON.parse(propsJson)); // twice: the plugin must be idempotent
  }
  const modRequest = (platform, modName) => ({
    platform, modName, projectRoot: process.cwd(), platformProjectRoot: process.cwd(), introspect: false,
  });
  const manifest = await AndroidConfig.Manifest.readAndroidManifestAsync(manifestIn);
  const android = await config.mods.android.manifest({ ...config, modResults: manifest, modRequest: modRequest('android', 'manifest') });
  await AndroidConfig.Manifest.writeAndroidManifestAsync(manifestOut, android.modResults);
  const info = plist.parse(fs.readFileSync(plistIn, 'utf8'));
  const ios = await config.mods.ios.infoPlist({ ...config, modResults: info, modRequest: modRequest('ios', 'infoPlist') });
  fs.writeFileSync(plistOut, plist.build(ios.modResults));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
