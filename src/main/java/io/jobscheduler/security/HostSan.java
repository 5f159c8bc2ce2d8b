package io.jobscheduler.security;

import java.net.InetAddress;
import java.util.Locale;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x509.GeneralName;

/**
 * A host a certificate is valid for, beside its identity: an IP literal (IPv4 or IPv6) or a DNS
 * name. Clients check the address they dial against these (the scheduler dials the worker's
 * advertised address; workers dial the scheduler's).
 */
public record HostSan(String text, boolean ip) {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern DIGITS = Pattern.compile("[0-9]+");
    /** IPv4 only as four decimal parts: the JDK would also read "1.2.3" as 1.2.0.3. */
    private static final Pattern DOTTED_QUAD = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

    /** {@code text} as an IP literal or a DNS name (lower-cased); anything else is an error naming it. */
    public static HostSan parse(String text) {
        String host = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (host.indexOf(':') >= 0 || DIGITS.matcher(host.replace(".", "")).matches()) {
            if (host.indexOf(':') < 0 && !DOTTED_QUAD.matcher(host).matches()) {
                throw invalid(text);
            }
            try {
                return new HostSan(InetAddress.ofLiteral(host).getHostAddress(), true);
            } catch (IllegalArgumentException e) {
                throw invalid(text);
            }
        }
        String name = host.toLowerCase(Locale.ROOT);
        if (name.isEmpty() || name.length() > 253) {
            throw invalid(text);
        }
        String[] labels = name.split("\\.", -1);
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw invalid(text);
            }
        }
        if (DIGITS.matcher(labels[labels.length - 1]).matches()) {
            throw invalid(text); // an all-numeric top label is never a DNS name (RFC 3696 §2)
        }
        return new HostSan(name, false);
    }

    GeneralName generalName() {
        return new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, text);
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("--san \"" + Names.printable(text)
                + "\": not an IP address or a DNS name (letters, digits, '-' and dots; no wildcards)");
    }
}
