package io.jobscheduler.security;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cluster's own certificate authority: an EC P-256 key and a self-signed CA certificate
 * ({@code ca.pem}, {@code ca.key}) that issues the certificates of schedulers, workers and
 * clients, each carrying its {@link Identity} as a URI SAN. Validity dates are explicit so
 * tests can make expired certificates.
 */
public final class CertificateAuthority {
    public static final String CERT_FILE = "ca.pem";
    public static final String KEY_FILE = "ca.key";
    /** How long a CA made by {@code certs ca} is valid. */
    public static final Duration VALIDITY = Duration.ofDays(3650);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509Certificate certificate;
    private final PrivateKey key;

    private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /** A new CA valid from {@code notBefore} to {@code notAfter}. */
    public static CertificateAuthority create(Instant notBefore, Instant notAfter) {
        requireOrdered(notBefore, notAfter);
        KeyPair pair = newKeyPair();
        X500Name subject = new X500Name("O=jobscheduler,CN=jobscheduler CA " + HexFormat.of().formatHex(randomBytes(4)));
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(notBefore), Date.from(notAfter), subject, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(pair.getPublic()));
            return new CertificateAuthority(sign(builder, pair.getPrivate()), pair.getPrivate());
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the CA certificate: " + e.getMessage(), e);
        }
    }

    /** The CA in {@code dir}/ca.pem and ca.key; fails when they are missing or do not belong together. */
    public static CertificateAuthority load(Path dir) {
        X509Certificate certificate = Pem.readCertificate(dir.resolve(CERT_FILE));
        if (certificate.getBasicConstraints() < 0) {
            throw new IllegalArgumentException(dir.resolve(CERT_FILE) + " is not a CA certificate");
        }
        PrivateKey key = Pem.readPrivateKey(dir.resolve(KEY_FILE));
        if (!signsFor(key, certificate.getPublicKey())) {
            throw new IllegalArgumentException(dir.resolve(KEY_FILE) + " is not the key of " + dir.resolve(CERT_FILE));
        }
        return new CertificateAuthority(certificate, key);
    }

    /** Writes ca.pem and ca.key (mode 0600) into {@code dir}; refuses to replace either. */
    public void save(Path dir) {
        new IssuedCertificate(certificate, key).save(dir, "ca");
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * A certificate for {@code identity}, valid from {@code notBefore} to {@code notAfter} (within
     * the CA's own validity), with the key usages its role needs and {@code hostSans} (IP
     * literals or DNS names, see {@link HostSan}) beside the identity's URI SAN.
     */
    public IssuedCertificate issue(Identity identity, List<HostSan> hostSans, Instant notBefore, Instant notAfter) {
        requireOrdered(notBefore, notAfter);
        if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
            throw new IllegalArgumentException("the certificate would outlive the CA, which expires "
                    + certificate.getNotAfter().toInstant());
        }
        KeyPair pair = newKeyPair();
        List<GeneralName> sans = new ArrayList<>();
        sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri().toString()));
        hostSans.forEach(san -> sans.add(san.generalName()));
        KeyPurposeId[] purposes = identity.role().serves()
                ? new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}
                : new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth};
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(),
                    Date.from(notBefore), Date.from(notAfter),
                    new X500Name("O=jobscheduler,OU=" + identity.role().word() + ",CN=" + identity.name()),
                    pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(sans.toArray(GeneralName[]::new)))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(certificate.getPublicKey()))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(pair.getPublic()));
            return new IssuedCertificate(sign(builder, key), pair.getPrivate());
        } catch (CertIOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the certificate: " + e.getMessage(), e);
        }
    }

    /** The hex SHA-256 of a certificate's DER encoding (what {@code openssl x509 -fingerprint -sha256} shows). */
    public static String fingerprint(X509Certificate certificate) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode " + certificate.getSubjectX500Principal(), e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
            throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    private static boolean signsFor(PrivateKey key, PublicKey publicKey) {
        byte[] probe = "jobscheduler CA key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(SIGNATURE);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(SIGNATURE);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make EC P-256 keys: " + e.getMessage(), e);
        }
    }

    /** A positive serial of up to 127 random bits (RFC 5280: at most 20 octets, unpredictable). */
    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static void requireOrdered(Instant notBefore, Instant notAfter) {
        if (!notBefore.isBefore(notAfter)) {
            throw new IllegalArgumentException("validity must start before it ends: " + notBefore + " .. " + notAfter);
        }
    }
}
