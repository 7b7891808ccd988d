// Runs the generated PaymentWebView.tsx's decision logic (shouldLoadInWebView, openExternally)
// over the URL table under Node, with react-native's Linking and Platform replaced by a fake
// phone. Usage: node run_react_native.js TOOLCHAIN_NODE_MODULES PaymentWebView.tsx CASES
// where CASES has "platform TAB mode TAB url" lines; prints one decision per line (see
// tests/data/url_table.yaml for the words). Platform "window" renders the component on Android
// and hands the URL to its onOpenWindow, as react-native-webview does for window.open();
// platform "native" is Android with an openAndroidIntent native module (starts what is installed).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const [nodeModules, tsxPath, casesPath] = process.argv.slice(2);
const ts = require(path.join(nodeModules, 'typescript'));

const phone = { os: 'android', installed: true, decision: null };
const record = (what) => {
  if (phone.decision === null) {
    phone.decision = what;
  }
};

function storeOrOpen(url) {
  const play = /^(?:market:\/\/details\?id=|https:\/\/play\.google\.com\/store\/apps\/details\?id=)(.+)$/.exec(url);
  if (play !== null) {
    return `store ${decodeURIComponent(play[1])}`;
  }
  const apple = /^itms-apps:\/\/apps\.apple\.com\/app\/id(\d+)$/.exec(url);
  return apple !== null ? `store ${apple[1]}` : `open ${url}`;
}

const Linking = {
  // Like React Native's: rejects when no app answers the URL.
  async openURL(url) {
    const always = /^(market|https?|itms-apps):/.test(url); // store apps and a browser
    if (!phone.installed && !always) {
      throw new Error(`No app answers ${url}`);
    }
    record(storeOrOpen(url));
  },
};
const rendered = { props: null };
// The WebView's ref: loading a URL in it is injecting "window.location.href = URL".
const webViewRef = {
  current: {
    injectJavaScript(script) {
      const target = /^window\.location\.href = (".*"); true;$/.exec(script);
      record(target !== null ? `load ${JSON.parse(target[1])}` : `inject ${script}`);
    },
  },
};
const jsx = (type, props) => {
  rendered.props = props;
  return null;
};
const fakes = {
  react: { useCallback: (f) => f, useRef: () => webViewRef, createElement: (type, props) => jsx(type, props) },
  'react/jsx-runtime': { jsx, jsxs: jsx },
  'react-native': { Linking, Platform: { get OS() { return phone.os; } } },
  'react-native-webview': { WebView: function WebView() {} },
};

const source = fs.readFileSync(tsxPath, 'utf8');
const { outputText } = ts.transpileModule(source, {
  compilerOptions: { module: ts.ModuleKind.CommonJS, jsx: ts.JsxEmit.ReactJSX, target: ts.ScriptTarget.ES2020 },
});
const module_ = { exports: {} };
const fakeRequire = (name) => {
  if (!(name in fakes)) {
    throw new Error(`PaymentWebView.tsx imports ${name}, which this runner does not fake`);
  }
  return fakes[name];
};
vm.runInNewContext(outputText, { module: module_, exports: module_.exports, require: fakeRequire, console });
const { shouldLoadInWebView, openExternally, PaymentWebView } = module_.exports;

async function openWindow(url) {
  PaymentWebView({ uri: 'https://pay.example.com/' });
  rendered.props.onOpenWindow({ nativeEvent: { targetUrl: url } });
  // onOpenWindow starts openExternally without awaiting it: let its promise chain settle.
  for (let i = 0; i < 20 && phone.decision === null; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return phone.decision ?? 'none';
}

// A native intent: launcher, as the file's header describes: true when the app started.
async function nativeIntent(url) {
  if (!phone.installed) {
    return false;
  }
  record(`open native ${url}`);
  return true;
}

async function decide(os, mode, url) {
  phone.os = os === 'window' || os === 'native' ? 'android' : os;
  phone.installed = mode === 'installed';
  phone.decision = null;
  if (os === 'window') {
    return openWindow(url);
  }
  if (shouldLoadInWebView(url)) {
    return 'load';
  }
  await openExternally(url, (fallback) => record(`fallback ${fallback}`), os === 'native' ? nativeIntent : undefined);
  return phone.decision ?? 'none';
}

(async () => {
  const out = [];
  for (const line of fs.readFileSync(casesPath, 'utf8').split('\n').filter(Boolean)) {
    const [os, mode, url] = line.split('\t');
    out.push(await decide(os, mode, url));
  }
  process.stdout.write(out.map((d) => `${d}\n`).join(''));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
