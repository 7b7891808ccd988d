package urltable;

import android.app.Activity;
import android.content.ActivityNotFoundException;
import android.content.Context;
import android.content.Intent;
import android.net.Uri;
import android.webkit.WebResourceRequest;
import android.webkit.WebView;
import android.webkit.WebViewClient;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;

/**
 * Runs a generated WebViewClient over tests/data/url_table.yaml (as prepared by
 * tests/test_generate_url_table.py: one "mode TAB url" per line) and prints one decision per line:
 * load, open DATA | open package:PKG, store PKG, fallback URL, none, or UNSAFE/ERROR with a reason.
 * Mode "installed": every activity starts, except that guardedpay: throws SecurityException.
 * Mode "missing": only the Play Store (market:) and a browser (http/https) are installed.
 */
public final class UrlTableRunner {

    public static void main(String[] args) throws Exception {
        Class<?> clientClass = Class.forName(args[1]);
        boolean showPackage = args.length > 2 && args[2].equals("--show-package");
        List<String> lines = Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            int tab = line.indexOf('\t');
            out.append(decide(clientClass, line.substring(0, tab).equals("installed"), line.substring(tab + 1), showPackage))
                    .append('\n');
        }
        System.out.print(out);
    }

    private static String decide(Class<?> clientClass, boolean installed, String url, boolean showPackage)
            throws Exception {
        Device device = new Device(installed, showPackage);
        Page page = new Page(device);
        WebViewClient client = (WebViewClient) clientClass.getConstructor(Activity.class).newInstance(device);
        boolean handled;
        try {
            handled = client.shouldOverrideUrlLoading(page, new Request(Uri.parse(url)));
        } catch (RuntimeException e) {
            return "ERROR " + e;
        }
        if (device.decision != null) {
            return device.decision;
        }
        return handled ? "none" : "load";
    }

    /** The phone: which activities start, and the first thing that happened. */
    static final class Device extends Activity {
        private final boolean installed;
        private final boolean showPackage;
        String decision;

        Device(boolean installed, boolean showPackage) {
            this.installed = installed;
            this.showPackage = showPackage;
        }

        @Override
        public String getPackageName() {
            return "com.example.shop";
        }

        @Override
        public void startActivity(Intent intent) {
            Uri data = intent.getData();
            String scheme = data == null ? null : data.getScheme();
            boolean store = "market".equals(scheme);
            boolean web = "http".equals(scheme) || "https".equals(scheme);
            if ("file".equals(scheme)) {
                throw new android.os.FileUriExposedException("file: URI exposed");
            }
            if ("guardedpay".equals(scheme)) {
                // An installed app whose activity is not exported, or demands a permission.
                throw new SecurityException("Permission Denial: starting Intent { dat=" + data + " }");
            }
            if (!installed && !store && !web) {
                throw new ActivityNotFoundException("No Activity found to handle " + data);
            }
            if (intent.getComponent() != null || intent.getSelector() != null) {
                record("UNSAFE component or selector kept: " + data);
            } else if (store || (web && "play.google.com".equals(data.getHost())
                    && "/store/apps/details".equals(data.getPath()))) {
                record("store " + data.getQueryParameter("id"));
            } else if (data == null) {
                record("open package:" + intent.getPackage());
            } else if (!store && !web && !intent.hasCategory(Intent.CATEGORY_BROWSABLE)) {
                record("UNSAFE not BROWSABLE: " + data);
            } else {
                record("open " + data + (showPackage ? " package=" + intent.getPackage() : ""));
            }
        }

        void record(String what) {
            if (decision == null) {
                decision = what;
            }
        }
    }

    /** The WebView: a loadUrl is the store's web page or the intent's fallback URL. */
    static final class Page extends WebView {
        private static final String WEB_STORE = "https://play.google.com/store/apps/details?id=";
        private final Device device;

        Page(Context context) {
            super(context);
            this.device = (Device) context;
        }

        @Override
        public void loadUrl(String url) {
            device.record(url.startsWith(WEB_STORE) ? "store " + Uri.decode(url.substring(WEB_STORE.length())) : "fallback " + url);
        }
    }

    static final class Request implements WebResourceRequest {
        private final Uri url;

        Request(Uri url) {
            this.url = url;
        }

        @Override
        public Uri getUrl() {
            return url;
        }

        @Override
        public boolean isForMainFrame() {
            return true;
        }

        @Override
        public boolean hasGesture() {
            return true;
        }

        @Override
        public String getMethod() {
            return "GET";
        }
    }
}
