package io.jobscheduler.security;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Who a certificate says its holder is: the role and name of its URI SAN
 * {@code spiffe://jobscheduler/<role>/<name>}, written by {@link CertificateAuthority#issue}.
 * Read it only from a certificate the TLS handshake has already verified against the CA.
 */
public record Identity(PeerRole role, String name) {
    static final String TRUST_DOMAIN = "jobscheduler";
    private static final int SAN_URI = 6; // GeneralName uniformResourceIdentifier, RFC 5280 §4.2.1.6
    /** Namespace of name-based worker ids (a random UUID fixed once for this project). */
    private static final UUID WORKER_ID_NAMESPACE = UUID.fromString("5d1c8a54-3f0e-4b8e-9a43-6f0b2f6b9e17");

    public Identity {
        Objects.requireNonNull(role, "role");
        Names.requireSafe(name);
    }

    /** The URI SAN that carries this identity. */
    public URI uri() {
        return URI.create("spiffe://" + TRUST_DOMAIN + "/" + role.word() + "/" + name);
    }

    /** {@code role/name}, as logs and audit lines name a caller. */
    @Override
    public String toString() {
        return role.word() + "/" + name;
    }

    /**
     * The identity in {@code certificate}'s URI SAN; empty when it has none of ours. A certificate
     * with two or more jobscheduler URIs is refused as ambiguous (our CA never issues one).
     */
    public static Optional<Identity> of(X509Certificate certificate) {
        List<Identity> found = new ArrayList<>();
        for (String uri : uriSans(certificate)) {
            parse(uri).ifPresent(found::add);
        }
        if (found.size() > 1) {
            throw new IllegalArgumentException("certificate " + certificate.getSubjectX500Principal()
                    + " names " + found.size() + " jobscheduler identities");
        }
        return found.stream().findFirst();
    }

    /** {@code spiffe://jobscheduler/<role>/<name>} parsed; empty for any other URI. */
    static Optional<Identity> parse(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
        if (!"spiffe".equals(uri.getScheme()) || !TRUST_DOMAIN.equals(uri.getRawAuthority())
                || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawPath() == null) {
            return Optional.empty();
        }
        String[] segments = uri.getRawPath().split("/", -1);
        if (segments.length != 3 || !segments[0].isEmpty() || !Names.isSafe(segments[2])) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Identity(PeerRole.parse(segments[1]), segments[2]));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The worker id this identity owns under the CA with {@code caFingerprint}
     * ({@link CertificateAuthority#fingerprint}): a name-based UUID (version 5, RFC 9562), so the
     * same worker gets the same id from any scheduler trusting that CA, with nothing stored.
     */
    public UUID workerId(String caFingerprint) {
        byte[] name = (caFingerprint + "/" + role.word() + "/" + this.name).getBytes(StandardCharsets.UTF_8);
        MessageDigest sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
        sha1.update(ByteBuffer.allocate(16).putLong(WORKER_ID_NAMESPACE.getMostSignificantBits())
                .putLong(WORKER_ID_NAMESPACE.getLeastSignificantBits()).array());
        byte[] hash = sha1.digest(name);
        hash[6] = (byte) ((hash[6] & 0x0f) | 0x50); // version 5
        hash[8] = (byte) ((hash[8] & 0x3f) | 0x80); // IETF variant
        ByteBuffer bits = ByteBuffer.wrap(hash, 0, 16);
        return new UUID(bits.getLong(), bits.getLong());
    }

    private static List<String> uriSans(X509Certificate certificate) {
        Collection<List<?>> sans;
        try {
            sans = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("certificate " + certificate.getSubjectX500Principal()
                    + ": unreadable subject alternative names: " + e.getMessage(), e);
        }
        List<String> uris = new ArrayList<>();
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.get(0) instanceof Integer type && type == SAN_URI && san.get(1) instanceof String uri) {
                    uris.add(uri);
                }
            }
        }
        return uris;
    }
}
