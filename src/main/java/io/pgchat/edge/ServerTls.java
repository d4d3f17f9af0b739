package io.pgchat.edge;

import io.helidon.common.configurable.Resource;
import io.helidon.common.tls.Tls;
import io.helidon.config.Config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * The server's own TLS, from a PEM private key and certificate chain (pgchat.tls.key and
 * pgchat.tls.certificate): both or neither. With them the port speaks HTTPS, HTTP/2 offered by ALPN,
 * so a browser's event streams share one connection instead of using up its six per origin.
 */
public final class ServerTls {

    private ServerTls() {
    }

    /** Empty when neither file is set; a half or unusable setting stops the start, naming the key. */
    public static Optional<Tls> from(Config tls) {
        Optional<Path> key = file(tls, "key", "PGCHAT_TLS_KEY");
        Optional<Path> certificate = file(tls, "certificate", "PGCHAT_TLS_CERTIFICATE");
        if (key.isEmpty() && certificate.isEmpty()) {
            return Optional.empty();
        }
        if (key.isEmpty() || certificate.isEmpty()) {
            String missing = key.isEmpty() ? "pgchat.tls.key (PGCHAT_TLS_KEY)" : "pgchat.tls.certificate (PGCHAT_TLS_CERTIFICATE)";
            throw new IllegalStateException("TLS needs a key and a certificate, but " + missing
                    + " is not set; set both (PEM files) or neither");
        }
        try {
            Tls built = Tls.builder()
                    .privateKey(keys -> keys.pem(pem -> pem.key(Resource.create(key.get()))))
                    .privateKeyCertChain(keys -> keys.pem(pem -> pem.certChain(Resource.create(certificate.get()))))
                    .build();
            PrivateKey privateKey = built.prototype().privateKey()
                    .orElseThrow(() -> new IllegalStateException("no private key found"));
            X509Certificate first = built.prototype().privateKeyCertChain().stream().findFirst()
                    .orElseThrow(() -> new IllegalStateException("no certificate found"));
            requirePair(privateKey, first);
            return Optional.of(built);
        } catch (RuntimeException | GeneralSecurityException e) {
            throw new IllegalStateException("pgchat.tls.key " + key.get() + " and pgchat.tls.certificate "
                    + certificate.get() + " must hold a PEM private key (PKCS#8, or PKCS#1 RSA) and its certificate: "
                    + e.getMessage(), e);
        }
    }

    /**
     * A key and a certificate that do not belong together would start a server whose every handshake
     * fails: a signature made with the key must verify with the certificate's public key.
     */
    private static void requirePair(PrivateKey key, X509Certificate certificate) throws GeneralSecurityException {
        String algorithm = "SHA256with" + (key.getAlgorithm().equals("EC") ? "ECDSA" : key.getAlgorithm());
        byte[] probe = "pgchat".getBytes(StandardCharsets.US_ASCII);
        Signature sign = Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(probe);
        Signature verify = Signature.getInstance(algorithm);
        try {
            verify.initVerify(certificate.getPublicKey());
            verify.update(probe);
            if (verify.verify(sign.sign())) {
                return;
            }
        } catch (InvalidKeyException otherKind) {
            // an RSA key with an EC certificate, say
        }
        throw new IllegalStateException("the certificate (the first in the file) is not the key's");
    }

    private static Optional<Path> file(Config tls, String name, String env) {
        Optional<Path> path = tls.get(name).asString().map(String::strip).filter(p -> !p.isEmpty()).map(Path::of);
        path.filter(p -> !Files.isReadable(p) || Files.isDirectory(p)).ifPresent(p -> {
            throw new IllegalStateException("pgchat.tls." + name + " (" + env + ") names " + p.toAbsolutePath()
                    + ", which is not a readable file");
        });
        return path;
    }
}
