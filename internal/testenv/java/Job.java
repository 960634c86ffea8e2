package paraphe.testenv;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One job: tab-separated key=value pairs on one line. Values are file
 * paths, URLs, passwords and names made by the Go tests: they hold neither
 * tabs nor newlines.
 *
 * Keys: id, op (sign, timestamp, ltv, keygen), producer (itext, pdfbox,
 * bc), in, out, p12 and password (or key and certs: PEM files), subfilter,
 * digest (SHA-256…), scheme (pkcs1, pss; ECDSA follows from the key), tsa
 * (URL), tlsroot (PEM file trusted for HTTPS), visible (true), field,
 * reason, location; for keygen: curve, cakey (PKCS#8 PEM), cacert (PEM),
 * chain (PEM file of the certificates above cacert), cn, keyout, certout.
 */
final class Job {
    private final Map<String, String> kv = new LinkedHashMap<>();

    static Job parse(String line) {
        Job j = new Job();
        for (String part : line.split("\t")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("not key=value: " + part);
            }
            j.kv.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return j;
    }

    String get(String key, String dflt) {
        String v = kv.get(key);
        return v == null || v.isEmpty() ? dflt : v;
    }

    String require(String key) {
        String v = get(key, null);
        if (v == null) {
            throw new IllegalArgumentException("the job lacks " + key);
        }
        return v;
    }

    boolean flag(String key) {
        return "true".equals(kv.get(key));
    }
}
