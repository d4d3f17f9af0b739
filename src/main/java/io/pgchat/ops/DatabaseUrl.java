package io.pgchat.ops;

import io.pgchat.ChatConfig;

import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;
import io.vertx.pgclient.impl.PgConnectionUriParser;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
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
import java.util.stream.IntStream;

/**
 * Where the database is and how to reach it, read as libpq (psql) reads it: DATABASE_URL, else the
 * PG* variables, with libpq's defaults for what neither gives (the OS user, a database of its name,
 * port 5432, the password file); TLS as {@code sslmode} and {@code sslrootcert} ask (in the URL, else PGSSLMODE and
 * PGSSLROOTCERT; {@code prefer} and {@code ~/.postgresql/root.crt} by default). The same settings serve
 * the pool, the LISTEN connection and Flyway's JDBC connection. {@code ?pgbouncer=true} says the URL
 * goes through a transaction-pooling PgBouncer.
 */
public final class DatabaseUrl {

    private static final Logger LOG = System.getLogger(DatabaseUrl.class.getName());
    /** The variables that say where the server is; PGSSLMODE, PGSSLROOTCERT and PGPASSFILE alone say only how. */
    private static final List<String> LIBPQ = List.of("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD",
            "PGDATABASE");
    private static final List<String> OURS = List.of("sslmode", "sslrootcert", "pgbouncer");
    private static final String MODES = "disable, allow, prefer, require, verify-ca, verify-full";

    private DatabaseUrl() {
    }

    /**
     * DATABASE_URL wins; otherwise any of the variables that say where (PGHOST, PGUSER...) means that
     * server; otherwise none (the embedded database).
     */
    public static Optional<PgConnectOptions> fromEnv(Map<String, String> env) {
        Optional<PgConnectOptions> url = parse("DATABASE_URL", env);
        if (url.isPresent() && url.get().getUseLayer7Proxy() && parse("LISTEN_DATABASE_URL", env).isEmpty()) {
            throw new IllegalStateException("DATABASE_URL goes through PgBouncer (pgbouncer=true), where LISTEN"
                    + " does not work: set LISTEN_DATABASE_URL to PostgreSQL itself");
        }
        if (url.isPresent() || LIBPQ.stream().allMatch(name -> variable(env, name).isEmpty())) {
            return url;
        }
        return Optional.of(withTls(withLibpqDefaults(new JsonObject(), env), Map.of(), env));
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
            // The parser, not fromUri: fromUri fills what the URL leaves out with Vert.x's own defaults
            // (user "user", database "db"), where libpq takes the PG* variables and the OS user.
            JsonObject given = PgConnectionUriParser.parse(rest.isEmpty() ? parts[0] : parts[0] + "?" + String.join("&", rest));
            options = withLibpqDefaults(given, env);
        } catch (IllegalArgumentException e) {
            // The parser's message would repeat the URL, password included: say only which variable.
            throw new IllegalStateException(variable + " is not a PostgreSQL URL: " + ChatConfig.DATABASE_HELP);
        }
        // A transaction pooler hands each transaction another server connection, which does not have the
        // statements this client prepared: statements go unnamed (PgBouncer before 1.21 keeps none).
        options.setUseLayer7Proxy(Boolean.parseBoolean(ours.get("pgbouncer")));
        return Optional.of(withTls(options, ours, env));
    }

    /**
     * What the URL leaves out, as libpq fills it: the PG* variables, else host localhost, port 5432,
     * user the OS user, database the user's name, password from the password file (~/.pgpass).
     */
    private static PgConnectOptions withLibpqDefaults(JsonObject given, Map<String, String> env) {
        String host = given.containsKey("host") ? given.getString("host")
                : variable(env, "PGHOSTADDR").or(() -> variable(env, "PGHOST")).orElse("localhost");
        if (host.startsWith("/")) {
            // libpq's Unix socket directory: Vert.x needs a native transport for it, and Flyway's JDBC cannot.
            throw new IllegalStateException("PGHOST=" + host + " is a Unix socket directory: pgchat connects over TCP"
                    + " only, set PGHOST to a host name or address (localhost)");
        }
        int port = given.containsKey("port") ? given.getInteger("port") : port(variable(env, "PGPORT").orElse("5432"));
        String user = given.containsKey("user") ? given.getString("user")
                : variable(env, "PGUSER").orElse(System.getProperty("user.name"));
        String database = given.containsKey("database") ? given.getString("database")
                : variable(env, "PGDATABASE").orElse(user);
        String password = given.containsKey("password") ? given.getString("password")
                : variable(env, "PGPASSWORD").orElseGet(() -> passwordFile(env, host, port, database, user));
        // Vert.x refuses no password; an empty one is what a server that asks for one then refuses.
        PgConnectOptions options = new PgConnectOptions(given);
        return options.setHost(host).setPort(port).setUser(user).setDatabase(database).setPassword(password == null ? "" : password);
    }

    private static Optional<String> variable(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).filter(value -> !value.isBlank());
    }

    private static int port(String text) {
        try {
            int port = Integer.parseInt(text.strip());
            if (port >= 1 && port <= 65_535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalStateException("PGPORT must be a port number from 1 to 65535, not '" + text + "'");
    }

    /**
     * libpq's password file, PGPASSFILE else ~/.pgpass: lines {@code host:port:database:user:password},
     * {@code *} matching anything, a backslash escaping {@code :} and itself; the first match wins.
     */
    private static String passwordFile(Map<String, String> env, String host, int port, String database, String user) {
        Path file = variable(env, "PGPASSFILE").map(Path::of).orElseGet(() -> home(env).resolve(".pgpass"));
        if (!Files.isRegularFile(file)) {
            return null;
        }
        List<String> lines;
        try {
            if (file.getFileSystem().supportedFileAttributeViews().contains("posix")
                    && Files.getPosixFilePermissions(file).stream().anyMatch(p -> p.name().startsWith("GROUP")
                    || p.name().startsWith("OTHERS"))) {
                // As libpq: a password file others can read is not trusted with the password.
                LOG.log(Level.WARNING, "Password file " + file + " is ignored: others may read it; chmod 0600 it");
                return null;
            }
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "Password file " + file + " cannot be read: " + e.getMessage());
            return null;
        }
        List<String> wanted = List.of(host, String.valueOf(port), database, user);
        for (String line : lines) {
            List<String> fields = passwordFields(line);
            if (!line.startsWith("#") && fields.size() == 5 && IntStream.range(0, 4)
                    .allMatch(i -> fields.get(i).equals("*") || fields.get(i).equals(wanted.get(i)))) {
                return fields.get(4);
            }
        }
        return null;
    }

    /** The five fields of a password file line; the fifth, the password, is the rest of the line. */
    private static List<String> passwordFields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                field.append(line.charAt(++i));
            } else if (c == ':' && fields.size() < 4) {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }

    /** HOME as the shell has it; Java's user.home ignores HOME. */
    private static Path home(Map<String, String> env) {
        return Path.of(variable(env, "HOME").orElse(System.getProperty("user.home")));
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
        Path root = given != null ? Path.of(given) : home(env).resolve(".postgresql").resolve("root.crt");
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
