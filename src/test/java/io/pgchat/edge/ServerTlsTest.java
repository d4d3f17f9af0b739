package io.pgchat.edge;

import io.pgchat.testing.TestCertificate;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pgchat.tls: both PEM files or neither; anything else stops the start with a line naming the key. */
class ServerTlsTest {

    @Test
    void neitherFileMeansPlainHttp() {
        assertTrue(ServerTls.from(tls()).isEmpty());
        assertTrue(ServerTls.from(tls("key", " ", "certificate", "")).isEmpty(), "blank is unset, as in application.yaml");
    }

    @Test
    void bothFilesMakeTls(@TempDir Path dir) throws Exception {
        TestCertificate certificate = TestCertificate.create(dir);
        assertTrue(ServerTls.from(tls("key", certificate.key().toString(),
                "certificate", certificate.certificate().toString())).isPresent());
    }

    @Test
    void oneFileAloneNamesTheMissingKey(@TempDir Path dir) throws Exception {
        TestCertificate certificate = TestCertificate.create(dir);
        assertEquals("TLS needs a key and a certificate, but pgchat.tls.certificate (PGCHAT_TLS_CERTIFICATE) is not set;"
                + " set both (PEM files) or neither", refused(tls("key", certificate.key().toString())));
        assertTrue(refused(tls("certificate", certificate.certificate().toString()))
                .contains("pgchat.tls.key (PGCHAT_TLS_KEY) is not set"));
    }

    @Test
    void anUnreadableFileIsNamed(@TempDir Path dir) throws Exception {
        TestCertificate certificate = TestCertificate.create(dir);
        Path missing = dir.resolve("missing.pem");
        assertEquals("pgchat.tls.key (PGCHAT_TLS_KEY) names " + missing + ", which is not a readable file",
                refused(tls("key", missing.toString(), "certificate", certificate.certificate().toString())));
        assertEquals("pgchat.tls.certificate (PGCHAT_TLS_CERTIFICATE) names " + dir + ", which is not a readable file",
                refused(tls("key", certificate.key().toString(), "certificate", dir.toString())));
    }

    @Test
    void filesThatAreNotAKeyAndCertificateAreRefused(@TempDir Path dir) throws Exception {
        TestCertificate certificate = TestCertificate.create(dir);
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a key\n");
        assertTrue(refused(tls("key", text.toString(), "certificate", certificate.certificate().toString()))
                .startsWith("pgchat.tls.key " + text + " and pgchat.tls.certificate"));
        assertTrue(refused(tls("key", certificate.certificate().toString(), "certificate", certificate.key().toString()))
                .contains("must hold a PEM private key"), "swapped files");
    }

    @Test
    void aKeyAndACertificateThatDoNotBelongTogetherAreRefused(@TempDir Path dir) throws Exception {
        TestCertificate one = TestCertificate.create(Files.createDirectory(dir.resolve("one")));
        TestCertificate other = TestCertificate.create(Files.createDirectory(dir.resolve("other")));
        assertTrue(refused(tls("key", one.key().toString(), "certificate", other.certificate().toString()))
                .endsWith("the certificate (the first in the file) is not the key's"));
        Path rsa = Files.writeString(dir.resolve("rsa.pem"), TestCertificate.pem("PRIVATE KEY",
                java.security.KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate().getEncoded()));
        assertTrue(refused(tls("key", rsa.toString(), "certificate", one.certificate().toString()))
                .endsWith("the certificate (the first in the file) is not the key's"), "an RSA key, an EC certificate");
    }

    private static String refused(Config tls) {
        return assertThrows(IllegalStateException.class, () -> ServerTls.from(tls)).getMessage();
    }

    private static Config tls(String... keysAndValues) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            values.put("pgchat.tls." + keysAndValues[i], keysAndValues[i + 1]);
        }
        return Config.just(ConfigSources.create(values)).get("pgchat.tls");
    }
}
