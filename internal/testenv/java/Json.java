package paraphe.testenv;

/** A flat JSON object written in insertion order. */
final class Json {
    private final StringBuilder b = new StringBuilder("{");

    Json put(String key, Object value) {
        if (b.length() > 1) {
            b.append(',');
        }
        quote(key);
        b.append(':');
        if (value == null) {
            b.append("null");
        } else if (value instanceof Boolean || value instanceof Number) {
            b.append(value);
        } else {
            quote(value.toString());
        }
        return this;
    }

    private void quote(String s) {
        b.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        b.append('"');
    }

    @Override
    public String toString() {
        return b.toString() + "}";
    }

    /** The exception's class and message, and its causes'. */
    static String describe(Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null; t = next(t)) {
            if (s.length() > 0) {
                s.append(": ");
            }
            s.append(t.getClass().getName());
            if (t.getMessage() != null) {
                s.append(" ").append(t.getMessage());
            }
        }
        return s.toString();
    }

    private static Throwable next(Throwable t) {
        // iText wraps checked exceptions without making them the cause.
        if (t instanceof com.itextpdf.text.ExceptionConverter) {
            return ((com.itextpdf.text.ExceptionConverter) t).getException();
        }
        return t.getCause() == t ? null : t.getCause();
    }
}
