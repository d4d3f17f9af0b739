package io.pgchat.ops;

import io.pgchat.testing.Await;
import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestCertificate;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static java.nio.file.attribute.PosixFilePermissions.fromString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The repository's nginx configuration (deploy/nginx.conf, as compose's scale profile uses it) in
 * front of two pgchat instances, over plain HTTP/1.1 and over HTTPS with HTTP/2: streams pass through
 * unbuffered and a post reaches subscribers of both instances. Needs Debian's nginx (CI installs it).
 */
class ProxyTest {

    private static final Path NGINX = Path.of("/usr/sbin/nginx");

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void throughTheProxyAPostReachesSubscribersOfBothInstancesUnbuffered(@TempDir Path dir) throws Exception {
        throughTheProxy(dir, false);
    }

    @Test
    void overHttpsTheProxysStreamsShareOneHttp2ConnectionAndAPostReachesBothInstances(@TempDir Path dir)
            throws Exception {
        throughTheProxy(dir, true);
    }

    /**
     * nginx.conf's X-Forwarded-For, from a trusted proxy address: each client has its own limits (here the
     * clients share nginx's address, 127.0.0.1, so what they send stands for the addresses nginx saw).
     */
    @Test
    void behindTheProxyEachClientHasItsOwnRateLimit(@TempDir Path dir) throws Exception {
        assumeNginx();
        String room = TestServer.room("proxy-limits");
        TestCertificate certificate = TestCertificate.create(dir);
        String[] settings = {"pgchat.limits.trusted.proxies", "127.0.0.1", "pgchat.limits.posts.burst", "5",
                "pgchat.limits.posts.address", "1"};
        try (TestServer a = TestServer.start(settings); TestServer b = TestServer.start(settings)) {
            int port = freePort();
            Process nginx = startNginx(dir, port, freePort(), certificate, a.chat.port(), b.chat.port());
            try {
                HttpClient http = HttpClient.newHttpClient();
                for (int i = 1; i <= 30; i++) {
                    assertEquals(201, post(http, port, room, "203.0.113." + i).statusCode(), "client " + i);
                }
                int refused = 0;
                for (int i = 0; i < 20; i++) { // one client, over both instances: beyond each one's burst of 5
                    refused += post(http, port, room, "198.51.100.7").statusCode() == 429 ? 1 : 0;
                }
                assertTrue(refused >= 5, "one client alone still meets its limit: " + refused + " refused");
            } finally {
                nginx.toHandle().destroy();
                nginx.waitFor();
            }
        }
    }

    private static HttpResponse<String> post(HttpClient http, int port, String room, String forwardedFor) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/rooms/" + room + "/messages"))
                .header("Content-Type", "application/json")
                .header("X-Forwarded-For", forwardedFor)
                .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", TestServer.room("a"), "body", "hi")))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Skips without nginx, unless the run requires proxy tests (CI does: it installs nginx). */
    static void assumeNginx() {
        boolean installed = Files.isExecutable(NGINX);
        if (!installed && "required".equals(System.getenv("PGCHAT_PROXY_TESTS"))) {
            fail("PGCHAT_PROXY_TESTS=required but " + NGINX + " is missing");
        }
        assumeTrue(installed, "Proxy tests skipped: " + NGINX + " is needed (Debian: apt-get install nginx)");
    }

    /** Four streams through nginx, two on each instance, then a post: every stream gets it at once. */
    private static void throughTheProxy(Path dir, boolean https) throws Exception {
        assumeNginx();
        String room = TestServer.room("proxy");
        TestCertificate certificate = TestCertificate.create(dir); // nginx.conf's one server needs it for either port
        try (TestServer a = TestServer.start(); TestServer b = TestServer.start()) {
            int port = freePort();
            int tlsPort = freePort();
            Process nginx = startNginx(dir, port, tlsPort, certificate, a.chat.port(), b.chat.port());
            List<SseClient> streams = new ArrayList<>();
            try {
                HttpClient http = https ? HttpClient.newBuilder()
                        .sslContext(TestCertificate.trusting(certificate.certificate())).build()
                        : HttpClient.newHttpClient();
                HttpClient.Version version = https ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1;
                String origin = https ? "https://127.0.0.1:" + tlsPort : "http://127.0.0.1:" + port;
                URI events = URI.create(origin + TestServer.events(room));
                for (int i = 0; i < 4; i++) {
                    streams.add(SseClient.open(http, events));
                }
                for (SseClient stream : streams) {
                    assertEquals(200, stream.status());
                    assertEquals(version, stream.response.get().version());
                }
                SseClient.awaitOpen(streams.toArray(SseClient[]::new));
                assertEquals(2, a.chat.subscribers(), "round robin spreads the streams");
                assertEquals(2, b.chat.subscribers());

                long start = System.nanoTime();
                HttpResponse<String> posted = http.send(HttpRequest.newBuilder(
                                URI.create(origin + "/api/rooms/" + room + "/messages"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", "alice", "body", "hi")))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(201, posted.statusCode(), posted.body());
                for (SseClient stream : streams) {
                    assertEquals(posted.body(), stream.next(Duration.ofSeconds(5)).data());
                }
                assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 3000,
                        "a small event is not held in a proxy buffer");
            } finally {
                streams.forEach(SseClient::close);
                nginx.toHandle().destroy();
                nginx.waitFor();
            }
        }
    }

    /**
     * deploy/nginx.conf with the compose service names replaced by these two local instances, its
     * ports by free ones and compose's certificate by the test's.
     */
    private static Process startNginx(Path dir, int port, int tlsPort, TestCertificate certificate, int first, int second)
            throws Exception {
        String conf = Files.readString(Path.of("deploy/nginx.conf"));
        List<String> edited = List.of("server replica:8080;", "listen 80;", "listen 443 ssl http2;",
                "/etc/nginx/certs/cert.pem;", "/etc/nginx/certs/key.pem;", "worker_processes auto;");
        assertTrue(edited.stream().allMatch(conf::contains), "the shape this test edits");
        // One worker, so that round robin (kept per worker) puts exactly one stream on each instance in turn.
        conf = conf.replace("server replica:8080;", "server 127.0.0.1:" + first + "; server 127.0.0.1:" + second + ";")
                .replace("listen 80;", "listen 127.0.0.1:" + port + ";")
                .replace("listen 443 ssl http2;", "listen 127.0.0.1:" + tlsPort + " ssl http2;")
                .replace("/etc/nginx/certs/cert.pem;", certificate.certificate() + ";")
                .replace("/etc/nginx/certs/key.pem;", certificate.key() + ";")
                .replace("worker_processes auto;", "worker_processes 1;");
        Files.setPosixFilePermissions(dir, fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("nginx.conf"), conf);
        Process nginx = new ProcessBuilder(NGINX.toString(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
                "-g", "daemon off; pid " + dir.resolve("nginx.pid") + "; error_log " + dir.resolve("error.log") + ";")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile())
                .start();
        Await.until(Duration.ofSeconds(10), () -> "nginx did not start listening", () -> {
            assertTrue(nginx.isAlive(), () -> "nginx exited: " + read(dir.resolve("nginx.out")) + read(dir.resolve("error.log")));
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (java.io.IOException notYet) {
                return false;
            }
        });
        return nginx;
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
