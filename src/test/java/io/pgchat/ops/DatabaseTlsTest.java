package io.pgchat.ops;

import io.pgchat.ChatConfig;
import io.pgchat.testing.TestCertificate;
import io.pgchat.testing.TestServer;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS to PostgreSQL as libpq's sslmode and sslrootcert ask, for the pool, the LISTEN connection and
 * Flyway, against a PostgreSQL with ssl=on and a self-signed certificate made here. The role
 * {@code tlsonly} is refused without TLS, so a start as that role proves every connection used it.
 */
class DatabaseTlsTest {

    private static Path dir;
    private static EmbeddedPostgres postgres;
    private static Path rootCert;
    private static Path wrongRootCert;

    @BeforeAll
    static void startPostgresWithTls() throws Exception {
        dir = Files.createTempDirectory("pgchat-tls-");
        TestCertificate server = TestCertificate.create(Files.createDirectory(dir.resolve("server")));
        // PostgreSQL refuses a key that others may read.
        Files.setPosixFilePermissions(server.key(), PosixFilePermissions.fromString("rw-------"));
        rootCert = server.certificate();
        wrongRootCert = TestCertificate.create(Files.createDirectory(dir.resolve("other"))).certificate();
        Path hba = Files.writeString(dir.resolve("pg_hba.conf"), """
                hostnossl all tlsonly all reject
                host all all 127.0.0.1/32 trust
                host all all ::1/128 trust
                """);
        postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dir.resolve("data"))
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", rootCert.toString())
                .setServerConfig("ssl_key_file", server.key().toString())
                .setServerConfig("hba_file", hba.toString())
                .start();
        superuser("CREATE ROLE tlsonly LOGIN");
        superuser("CREATE DATABASE chat OWNER tlsonly");
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    @Test
    void requireAndPreferUseTlsForThePoolListenAndMigrations() throws Exception {
        assertTls(true, Map.of("DATABASE_URL", url("tlsonly", "127.0.0.1") + "?sslmode=require"));
        assertTls(true, Map.of("DATABASE_URL", url("tlsonly", "127.0.0.1"), "PGSSLMODE", "require"));
        // prefer is libpq's default: TLS whenever the server offers it.
        assertTls(true, Map.of("DATABASE_URL", url("tlsonly", "127.0.0.1") + "?sslmode=prefer"));
        assertTls(true, Map.of("DATABASE_URL", url("tlsonly", "127.0.0.1")));
    }

    @Test
    void disableUsesNoTls() throws Exception {
        assertTls(false, Map.of("DATABASE_URL", url("postgres", "127.0.0.1") + "?sslmode=disable"));
        assertTls(false, Map.of("DATABASE_URL", url("postgres", "127.0.0.1"), "PGSSLMODE", "disable"));
    }

    @Test
    void verifyFullAcceptsTheRightRootCertificateAndRefusesAnother() throws Exception {
        assertTls(true, Map.of("DATABASE_URL", url("tlsonly", "localhost") + "?sslmode=verify-full&sslrootcert="
                + URLEncoder.encode(rootCert.toString(), StandardCharsets.UTF_8)));
        assertTls(true, Map.of("DATABASE_URL", url("tlsonly", "127.0.0.1"), "PGSSLMODE", "verify-ca",
                "PGSSLROOTCERT", rootCert.toString()));

        Exception refused = assertThrows(Exception.class, () -> TestServer.start(Map.of("DATABASE_URL",
                url("tlsonly", "localhost") + "?sslmode=verify-full&sslrootcert=" + wrongRootCert)).close());
        assertTrue(refused.getMessage().startsWith("Cannot reach PostgreSQL as tlsonly@localhost:"), refused.getMessage());
        assertTrue(refused.getMessage().contains("SSL handshake failed")
                && refused.getMessage().contains("TLS with sslmode=verify-full: is the server's certificate signed by"
                + " sslrootcert " + wrongRootCert + " and issued to localhost?"), refused.getMessage());
        // require with a root certificate checks the chain too, as libpq does.
        assertThrows(Exception.class, () -> TestServer.start(Map.of("DATABASE_URL",
                url("tlsonly", "127.0.0.1") + "?sslmode=require&sslrootcert=" + wrongRootCert)).close());
    }

    @Test
    void verifyFullWithoutARootCertificateOrWithAnUnknownModeSaysWhatToSet() {
        Map<String, String> env = new HashMap<>(Map.of("DATABASE_URL", url("tlsonly", "localhost")
                + "?sslmode=verify-full", "HOME", dir.toString()));
        Exception missing = assertThrows(Exception.class, () -> ChatConfig.database(env));
        assertTrue(missing.getMessage().contains("set sslrootcert=/path/to/root.crt in the URL or PGSSLROOTCERT"),
                missing.getMessage());
        env.put("DATABASE_URL", url("tlsonly", "localhost") + "?sslmode=verify");
        Exception unknown = assertThrows(Exception.class, () -> ChatConfig.database(env));
        assertEquals("sslmode=verify is not one of disable, allow, prefer, require, verify-ca, verify-full",
                unknown.getMessage());
    }

    /** Starts pgchat with env, posts so that a pool connection exists, and reads pg_stat_ssl of both kinds. */
    private static void assertTls(boolean expected, Map<String, String> env) throws Exception {
        try (TestServer server = TestServer.start(env)) {
            server.say(TestServer.room("tls"), "alice", "over tls?");
            try (Connection c = superuser(); Statement s = c.createStatement();
                 var rows = s.executeQuery("SELECT a.application_name, bool_and(s.ssl) FROM pg_stat_ssl s"
                         + " JOIN pg_stat_activity a USING (pid) WHERE a.application_name IN ('pgchat', 'pgchat-listen')"
                         + " GROUP BY 1 ORDER BY 1")) {
                Map<String, Boolean> ssl = new HashMap<>();
                while (rows.next()) {
                    ssl.put(rows.getString(1), rows.getBoolean(2));
                }
                assertEquals(Map.of("pgchat", expected, "pgchat-listen", expected), ssl, env.toString());
            }
        }
    }

    private static String url(String user, String host) {
        return "postgresql://" + user + "@" + host + ":" + postgres.getPort() + "/chat";
    }

    private static Connection superuser() throws Exception {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + postgres.getPort()
                + "/postgres?sslmode=disable", "postgres", null);
    }

    private static void superuser(String sql) throws Exception {
        try (Connection c = superuser(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
