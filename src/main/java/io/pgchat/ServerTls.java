package io.pgchat;

import io.helidon.common.configurable.Resource;
import io.helidon.common.tls.Tls;
import io.helidon.config.Config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The server's own TLS, from a PEM private key and certificate chain (pgchat.tls.key and
 * pgchat.tls.certificate): both or neither. With them the port speaks HTTPS, HTTP/2 offered by ALPN,
 * so a browser's event streams share one connection instead of using up its six per origin.
 */
final class ServerTls {

    private ServerTls() {
    }

    /** Empty when neither file is set; a half or unusable setting stops the start, naming the key. */
    static Optional<Tls> from(Config tls) {
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
            if (built.prototype().privateKey().isEmpty() || built.prototype().privateKeyCertChain().isEmpty()) {
                throw new IllegalStateException("no key or no certificate found in them");
            }
            return Optional.of(built);
        } catch (RuntimeException e) {
            throw new IllegalStateException("pgchat.tls.key " + key.get() + " and pgchat.tls.certificate "
                    + certificate.get() + " must hold a PEM private key (PKCS#8, or PKCS#1 RSA) and its certificate: "
                    + e.getMessage(), e);
        }
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
