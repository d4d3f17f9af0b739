package io.pgchat.ops;

import io.pgchat.ChatConfig;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the database is and how to reach it, read as libpq (psql) reads it: DATABASE_URL, else the
 * PG* variables; TLS as {@code sslmode} and {@code sslrootcert} ask (in the URL, else PGSSLMODE and
 * PGSSLROOTCERT; {@code prefer} and {@code ~/.postgresql/root.crt} by default). The same settings serve
 * the pool, the LISTEN connection and Flyway's JDBC connection. {@code ?pgbouncer=true} says the URL
 * goes through a transaction-pooling PgBouncer.
 */
public final class DatabaseUrl {

    private static final List<String> LIBPQ = List.of("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE");
    private static final List<String> OURS = List.of("sslmode", "sslrootcert", "pgbouncer");
    private static final String MODES = "disable, allow, prefer, require, verify-ca, verify-full";

    private DatabaseUrl() {
    }

    /** DATABASE_URL wins; otherwise the libpq variables; otherwise none (the embedded database). */
    public static Optional<PgConnectOptions> fromEnv(Map<String, String> env) {
        Optional<PgConnectOptions> url = parse("DATABASE_URL", env);
        if (url.isPresent() && url.get().getUseLayer7Proxy() && parse("LISTEN_DATABASE_URL", env).isEmpty()) {
            throw new IllegalStateException("DATABASE_URL goes through PgBouncer (pgbouncer=true), where LISTEN"
                    + " does not work: set LISTEN_DATABASE_URL to PostgreSQL itself");
        }
        if (url.isPresent() || LIBPQ.stream().noneMatch(env::containsKey)) {
            return url;
        }
        return Optional.of(withTls(PgConnectOptions.fromEnv(), Map.of(), env));
    }

    /** The URL in the named variable, with the TLS the URL or the PGSSL* variables ask for. */
    public static Optional<PgConnectOptions> parse(String variable, Map<String, String> env) {
        String url = env.get(variable);
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        String[] parts = url.strip().split("\\?", 2);
        Map<String, String> ours = new HashMap<>();
        List<String> rest = new ArrayList<>();
        for (String parameter : parts.length > 1 ? parts[1].split("&") : new String[0]) {
            String[] pair = parameter.split("=", 2);
            if (pair.length == 2 && OURS.contains(pair[0])) {
                // Vert.x would send these to the server as settings, which refuses them.
                ours.put(pair[0], URLDecoder.decode(pair[1], StandardCharsets.UTF_8));
            } else {
                rest.add(parameter);
            }
        }
        PgConnectOptions options;
        try {
            options = PgConnectOptions.fromUri(rest.isEmpty() ? parts[0] : parts[0] + "?" + String.join("&", rest));
        } catch (IllegalArgumentException e) {
            // The parser's message would repeat the URL, password included: say only which variable.
            throw new IllegalStateException(variable + " is not a PostgreSQL URL: " + ChatConfig.DATABASE_HELP);
        }
        // A transaction pooler hands each transaction another server connection, which does not have the
        // statements this client prepared: statements go unnamed (PgBouncer before 1.21 keeps none).
        options.setUseLayer7Proxy(Boolean.parseBoolean(ours.get("pgbouncer")));
        return Optional.of(withTls(options, ours, env));
    }

    private static PgConnectOptions withTls(PgConnectOptions options, Map<String, String> url, Map<String, String> env) {
        String name = url.getOrDefault("sslmode", env.getOrDefault("PGSSLMODE", "prefer"));
        SslMode mode;
        try {
            mode = SslMode.of(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("sslmode=" + name + " is not one of " + MODES);
        }
        if (mode == SslMode.DISABLE) {
            return options.setSslMode(mode).setSslOptions(null);
        }
        String given = url.getOrDefault("sslrootcert", env.get("PGSSLROOTCERT"));
        Path root = given != null ? Path.of(given) : Path.of(env.getOrDefault("HOME",
                System.getProperty("user.home")), ".postgresql", "root.crt");
        boolean verify = mode == SslMode.VERIFY_CA || mode == SslMode.VERIFY_FULL;
        if (!Files.isReadable(root) && (given != null || verify)) {
            throw new IllegalStateException("sslmode=" + mode.value + " needs the server's root certificate, and "
                    + root + " cannot be read: set sslrootcert=/path/to/root.crt in the URL or PGSSLROOTCERT");
        }
        ClientSSLOptions tls = new ClientSSLOptions();
        if (Files.isReadable(root)) {
            // As libpq: with a root certificate at hand the chain is checked, under require too.
            tls.setTrustOptions(new PemTrustOptions().addCertPath(root.toString()));
            mode = mode == SslMode.REQUIRE ? SslMode.VERIFY_CA : mode;
        } else {
            tls.setTrustAll(true);
        }
        tls.setHostnameVerificationAlgorithm(mode == SslMode.VERIFY_FULL ? "HTTPS" : "");
        return options.setSslMode(mode).setSslOptions(tls);
    }

    /** Why a connection failed, with the TLS settings to check when the handshake is what failed. */
    public static String failure(PgConnectOptions db, Exception e) {
        String message = e.getMessage();
        if (message == null || !message.contains("SSL") || !(trusted(db) instanceof PemTrustOptions pem)) {
            return message;
        }
        return message + " TLS with sslmode=" + db.getSslMode().value + ": is the server's certificate signed by"
                + " sslrootcert " + pem.getCertPaths().getFirst()
                + (db.getSslMode() == SslMode.VERIFY_FULL ? " and issued to " + db.getHost() : "") + "?";
    }

    /** The same database and TLS settings for PostgreSQL's JDBC driver (Flyway). */
    static String jdbc(PgConnectOptions db) {
        String url = "jdbc:postgresql://" + db.getHost() + ":" + db.getPort() + "/" + db.getDatabase()
                + "?sslmode=" + db.getSslMode().value;
        if (trusted(db) instanceof PemTrustOptions pem) {
            url += "&sslrootcert=" + URLEncoder.encode(pem.getCertPaths().getFirst(), StandardCharsets.UTF_8);
        }
        if (db.getUseLayer7Proxy()) {
            url += "&prepareThreshold=0";
        }
        return url;
    }

    private static TrustOptions trusted(PgConnectOptions db) {
        return db.getSslOptions() == null ? null : db.getSslOptions().getTrustOptions();
    }
}
