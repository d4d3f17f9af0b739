package io.pgchat.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder on 127.0.0.1 between a server and PostgreSQL that a test can cut: every open
 * connection is reset and new ones are refused (reset at once) until it is restored. To the server
 * this looks like a network failure, not a polite shutdown of PostgreSQL.
 */
public final class TcpProxy implements AutoCloseable {

    private final String targetHost;
    private final int targetPort;
    private final ServerSocket listener;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;

    TcpProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("tcp-proxy-accept").start(this::accept);
    }

    /** The test database's URL, pointed at this proxy. */
    public static String databaseUrlThrough(TcpProxy proxy) {
        var db = io.vertx.pgclient.PgConnectOptions.fromUri(TestDatabase.url());
        return "postgresql://" + db.getUser() + (db.getPassword() == null ? "" : ":" + db.getPassword())
                + "@127.0.0.1:" + proxy.port() + "/" + db.getDatabase();
    }

    public static TcpProxy toTestDatabase() throws IOException {
        var db = io.vertx.pgclient.PgConnectOptions.fromUri(TestDatabase.url());
        return new TcpProxy(db.getHost(), db.getPort());
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Resets every open connection, and every new one until restored. */
    public void cut() {
        cut = true;
        sockets.forEach(this::reset);
    }

    public void restore() {
        cut = false;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                if (cut) {
                    reset(client);
                    continue;
                }
                Socket server = new Socket(targetHost, targetPort);
                sockets.add(client);
                sockets.add(server);
                Thread.ofVirtual().start(() -> pump(client, server));
                Thread.ofVirtual().start(() -> pump(server, client));
            } catch (IOException e) {
                // closed, or PostgreSQL refused: the client sees its connection end
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // one side went away; the other is closed below
        } finally {
            reset(from);
            reset(to);
        }
    }

    /** Closes with a TCP reset, as a broken network would, rather than an orderly FIN. */
    private void reset(Socket socket) {
        sockets.remove(socket);
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        sockets.forEach(this::reset);
    }
}
