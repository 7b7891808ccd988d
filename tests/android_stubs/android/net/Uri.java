package android.net;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * android.net.Uri as AOSP's StringUri parses a string: the scheme runs to the first ':',
 * the authority follows "//" up to '/', '?' or '#', and nothing is validated.
 */
public abstract class Uri implements Comparable<Uri> {
    private static final String UNRESERVED = "_-!.~'()*";

    Uri() {
    }

    public static Uri parse(String uriString) {
        if (uriString == null) {
            throw new NullPointerException("uriString");
        }
        return new StringUri(uriString);
    }

    public abstract String getScheme();
    public abstract String getHost();
    public abstract String getPath();
    public abstract String getEncodedQuery();
    public abstract boolean isHierarchical();
    public abstract String toString();

    /** The same URI with a lower-case scheme (RFC 3986 schemes are case-insensitive). */
    public Uri normalizeScheme() {
        String scheme = getScheme();
        if (scheme == null) {
            return this;
        }
        String lower = scheme.toLowerCase(Locale.ROOT);
        return scheme.equals(lower) ? this : parse(lower + toString().substring(scheme.length()));
    }

    public String getQueryParameter(String key) {
        if (!isHierarchical()) {
            throw new UnsupportedOperationException("This isn't a hierarchical URI.");
        }
        String query = getEncodedQuery();
        if (query == null) {
            return null;
        }
        String encodedKey = encode(key);
        for (String pair : query.split("&", -1)) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            if (name.equals(encodedKey)) {
                return eq < 0 ? "" : decode(pair.substring(eq + 1).replace('+', ' '));
            }
        }
        return null;
    }

    public static String encode(String s) {
        if (s == null) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || UNRESERVED.indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append(String.format(Locale.ROOT, "%%%02X", b & 0xff));
            }
        }
        return out.toString();
    }

    public static String decode(String s) {
        if (s == null) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && isHex(s.charAt(i + 1)) && isHex(s.charAt(i + 2))) {
                bytes.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(raw, 0, raw.length);
            }
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Uri && toString().equals(o.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public int compareTo(Uri other) {
        return toString().compareTo(other.toString());
    }

    private static final class StringUri extends Uri {
        private final String uriString;

        StringUri(String uriString) {
            this.uriString = uriString;
        }

        private int schemeSeparator() {
            return uriString.indexOf(':');
        }

        private String schemeSpecificPart() {
            int ssi = schemeSeparator();
            int fragment = uriString.indexOf('#', ssi + 1);
            return uriString.substring(ssi + 1, fragment < 0 ? uriString.length() : fragment);
        }

        @Override
        public String getScheme() {
            int ssi = schemeSeparator();
            return ssi < 0 ? null : uriString.substring(0, ssi);
        }

        @Override
        public boolean isHierarchical() {
            int ssi = schemeSeparator();
            return ssi < 0 || (uriString.length() > ssi + 1 && uriString.charAt(ssi + 1) == '/');
        }

        private String authority() {
            String ssp = schemeSpecificPart();
            if (!ssp.startsWith("//")) {
                return null;
            }
            int end = 2;
            while (end < ssp.length() && "/\\?#".indexOf(ssp.charAt(end)) < 0) {
                end++;
            }
            return ssp.substring(2, end);
        }

        @Override
        public String getHost() {
            String authority = authority();
            if (authority == null) {
                return null;
            }
            String host = authority.substring(authority.lastIndexOf('@') + 1);
            int port = host.indexOf(':');
            return decode(port < 0 ? host : host.substring(0, port));
        }

        @Override
        public String getPath() {
            if (!isHierarchical()) {
                return null;
            }
            String ssp = schemeSpecificPart();
            String authority = authority();
            int start = authority == null ? 0 : authority.length() + 2;
            int end = start;
            while (end < ssp.length() && ssp.charAt(end) != '?') {
                end++;
            }
            return decode(ssp.substring(start, end));
        }

        @Override
        public String getEncodedQuery() {
            if (!isHierarchical()) {
                return null;
            }
            String ssp = schemeSpecificPart();
            int q = ssp.indexOf('?');
            return q < 0 ? null : ssp.substring(q + 1);
        }

        @Override
        public String toString() {
            return uriString;
        }
    }
}
