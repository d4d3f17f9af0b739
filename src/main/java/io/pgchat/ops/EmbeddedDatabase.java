package io.pgchat.ops;

import io.pgchat.ChatConfig;

import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The PostgreSQL the server starts for itself when none is configured, so that one command runs the
 * chat on a machine with nothing but a JDK. Its data directory outlives the process: messages survive
 * a restart, and a crash (fsync and synchronous_commit stay on). It listens on localhost only, with
 * no Unix socket, and lets in only with the password generated at its creation, kept in a file that
 * only its owner reads. A configured database always wins; then nothing here starts.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    private static final Logger LOG = System.getLogger(EmbeddedDatabase.class.getName());
    static final String PASSWORD_FILE = "pgchat-password";
    private static final String SCRAM_HBA = """
            # Written by pgchat: every connection needs the password in pgchat-password.
            local all all scram-sha-256
            host all all 127.0.0.1/32 scram-sha-256
            host all all ::1/128 scram-sha-256
            """;
    // Windows has no POSIX permissions: there a file takes its directory's access rights.
    private static final FileAttribute<?>[] OWNER_ONLY =
            FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                    ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
                    : new FileAttribute<?>[0];

    private final EmbeddedPostgres postgres;
    private final String password;
    public final Path directory;

    private EmbeddedDatabase(EmbeddedPostgres postgres, String password, Path directory) {
        this.postgres = postgres;
        this.password = password;
        this.directory = directory;
    }

    /** Starts on a free port, creating the cluster on first use and reusing it afterwards. */
    public static EmbeddedDatabase start(Path directory) throws IOException {
        Files.createDirectories(directory.getParent());
        try {
            stopOrphan(directory);
            Path passwordFile = directory.resolve(PASSWORD_FILE);
            if (Files.exists(passwordFile)) {
                String password = Files.readString(passwordFile).strip();
                return new EmbeddedDatabase(builder(directory).setConnectConfig("password", password).start(),
                        password, directory);
            }
            String password = generatePassword();
            if (Files.exists(directory.resolve("postgresql.conf"))) {
                return secureOlderCluster(directory, password);
            }
            // initdb takes the password from a file; its data directory must be empty, so the file waits beside it.
            Path initial = Files.createTempFile(directory.getParent(), "pgchat-initdb-", ".tmp", OWNER_ONLY);
            try {
                Files.writeString(initial, password);
                EmbeddedPostgres postgres = builder(directory)
                        .setLocaleConfig("auth", "scram-sha-256")
                        .setLocaleConfig("pwfile", initial.toString())
                        .setConnectConfig("password", password)
                        .start();
                writePassword(passwordFile, password);
                return new EmbeddedDatabase(postgres, password, directory);
            } finally {
                Files.deleteIfExists(initial);
            }
        } catch (IllegalStateException | IOException | SQLException e) {
            throw new IllegalStateException("Could not start an embedded PostgreSQL in " + directory + " ("
                    + e.getMessage() + "); " + ChatConfig.DATABASE_HELP + " to use your own", e);
        }
    }

    private static EmbeddedPostgres.Builder builder(Path directory) {
        return EmbeddedPostgres.builder()
                .setDataDirectory(directory)
                .setCleanDataDirectory(false)
                // The library turns durability off for throwaway test databases; these messages are kept.
                .setServerConfig("fsync", "on")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("unix_socket_directories", "")
                .setServerConfig("listen_addresses", "localhost");
    }

    /** A cluster made before pgchat set passwords let anyone on the machine in: it gets a password now. */
    private static EmbeddedDatabase secureOlderCluster(Path directory, String password) throws IOException, SQLException {
        EmbeddedPostgres postgres = builder(directory).start();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("ALTER ROLE postgres PASSWORD '" + password + "'");
            Files.writeString(directory.resolve("pg_hba.conf"), SCRAM_HBA);
            s.execute("SELECT pg_reload_conf()");
        }
        writePassword(directory.resolve(PASSWORD_FILE), password);
        LOG.log(Level.INFO, "The embedded PostgreSQL in " + directory + " now requires the password kept in "
                + directory.resolve(PASSWORD_FILE));
        return new EmbeddedDatabase(postgres, password, directory);
    }

    private static String generatePassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        // URL-safe, so that the password also fits a postgresql:// URL unescaped.
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void writePassword(Path file, String password) throws IOException {
        Files.deleteIfExists(file);
        Files.writeString(Files.createFile(file, OWNER_ONLY), password);
    }

    /**
     * After a kill -9 the postmaster of our data directory runs on, and a new one cannot start there.
     * When no live pgchat holds the directory's lock, it is an orphan of ours: stop it, then start
     * afresh; committed messages are safe in its WAL either way.
     */
    private static void stopOrphan(Path directory) throws IOException {
        Path pidFile = directory.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readAllLines(pidFile).getFirst().strip());
        // Only the postmaster of this directory: after a reboot the pid may be anyone's, even another PostgreSQL's.
        Optional<ProcessHandle> postmaster = ProcessHandle.of(pid).filter(p -> p.info().arguments()
                .filter(arguments -> List.of(arguments).contains(directory.toString())).isPresent());
        if (postmaster.isEmpty()) {
            return; // a stale file: PostgreSQL itself sees that its process is gone
        }
        if (lockedByAnotherProcess(directory)) {
            throw new IllegalStateException("another pgchat (PostgreSQL pid " + pid + ") is using it; stop that one or"
                    + " set PGCHAT_EMBEDDED_DIR to another directory");
        }
        LOG.log(Level.WARNING, "Stopping the embedded PostgreSQL (pid " + pid + ") that a pgchat which did not stop"
                + " cleanly left running in " + directory);
        try {
            // SIGINT is PostgreSQL's fast shutdown, what pg_ctl stop sends (pg_ctl itself refuses to run as root).
            new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor();
            postmaster.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the PostgreSQL left running there (pid " + pid + ") did not stop ("
                    + e + "); stop it with: kill -INT " + pid, e);
        }
    }

    /** The library holds a lock on a file in the data directory while its PostgreSQL runs. */
    private static boolean lockedByAnotherProcess(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory.resolve("epg-lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = channel.tryLock()) {
            return lock == null;
        } catch (OverlappingFileLockException e) {
            return true; // this very process runs it
        }
    }

    public PgConnectOptions options() {
        return new PgConnectOptions()
                .setHost("localhost")
                .setPort(postgres.getPort())
                .setUser("postgres")
                .setPassword(password)
                .setDatabase("postgres");
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
