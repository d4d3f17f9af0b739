package io.pgchat.access;

import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestCertificate;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static io.pgchat.testing.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With sign-in configured: tokens decide who may post and read, and who the author is. */
class SignInTest {

    private static final String SECRET = "a-shared-secret-of-at-least-32-bytes!";

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void withoutATokenNothingIsReadOrStored() throws Exception {
        String room = TestServer.room("locked");
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET)) {
            HttpResponse<String> post = server.postJson(room, Json.object("author", "a", "body", "b"));
            assertError(post, 401, "unauthorized");
            assertTrue(post.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
            assertError(server.get("/api/rooms/" + room + "/messages"), 401, "unauthorized");
            assertError(server.get(TestServer.events(room)), 401, "unauthorized");
            assertError(server.get("/api/events?rooms=" + room), 401, "unauthorized");
            assertError(server.get("/api/rooms"), 401, "unauthorized");
            assertEquals(List.of(), TestDatabase.seqs(room));
        }
    }

    @Test
    void theAuthorIsTheTokensClaimWhateverTheBodySays() throws Exception {
        String room = TestServer.room("signed");
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET)) {
            String token = hs256(claims("alice", 300).build(), SECRET);
            HttpResponse<String> post = post(server, room, Json.object("author", "mallory", "body", "hi"), token);
            assertEquals(201, post.statusCode(), post.body());
            assertEquals("alice", Json.parse(post.body()).get("author").asText());
            HttpResponse<String> noAuthor = post(server, room, Json.object("body", "no author needed"), token);
            assertEquals(201, noAuthor.statusCode(), noAuthor.body());
        }
    }

    @Test
    void expiredForgedAndWrongAlgorithmTokensAreRefused() throws Exception {
        String room = TestServer.room("refused");
        ECKey ec = new ECKeyGenerator(Curve.P_256).generate();
        try (TestServer server = TestServer.start("pgchat.auth.public.key", pem(ec))) {
            String good = sign(claims("alice", 300).build(), new ECDSASigner(ec), JWSAlgorithm.ES256);
            assertEquals(201, post(server, room, Json.object("body", "ok"), good).statusCode());

            String expired = sign(claims("alice", -120).build(), new ECDSASigner(ec), JWSAlgorithm.ES256);
            assertError(post(server, room, Json.object("body", "x"), expired), 401, "token_expired");
            ECKey other = new ECKeyGenerator(Curve.P_256).generate();
            String forged = sign(claims("alice", 300).build(), new ECDSASigner(other), JWSAlgorithm.ES256);
            assertError(post(server, room, Json.object("body", "x"), forged), 401, "invalid_token");
            // A MAC keyed with the public key must not pass for a signature (algorithm confusion).
            String confused = hs256(claims("alice", 300).build(), pem(ec) + "-padding-to-32-bytes");
            assertError(post(server, room, Json.object("body", "x"), confused), 401, "invalid_token");
            String unsigned = good.substring(0, good.lastIndexOf('.') + 1);
            assertError(post(server, room, Json.object("body", "x"), unsigned), 401, "invalid_token");
            assertEquals(List.of(1L), TestDatabase.seqs(room));
        }
    }

    @Test
    void aRoomsClaimRestrictsTheRooms() throws Exception {
        String allowed = TestServer.room("allowed");
        String other = TestServer.room("other");
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET)) {
            String everywhere = hs256(claims("admin", 300).claim("rooms", "*").build(), SECRET);
            assertEquals(201, post(server, other, Json.object("body", "x"), everywhere).statusCode());
            String token = hs256(claims("alice", 300).claim("rooms", List.of(allowed)).build(), SECRET);
            assertEquals(201, post(server, allowed, Json.object("body", "in"), token).statusCode());
            assertError(post(server, other, Json.object("body", "out"), token), 403, "room_forbidden");
            HttpResponse<String> rooms = server.http.send(HttpRequest.newBuilder(server.uri("/api/rooms"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(1, Json.parse(rooms.body()).size(), rooms.body());
            assertEquals(allowed, Json.parse(rooms.body()).get(0).get("room").asText());
            assertError(get(server, "/api/events?rooms=" + allowed + "," + other, token), 403,
                    "room_forbidden");
            try (SseClient stream = server.subscribe("/api/events?rooms=" + allowed, "Authorization", "Bearer " + token)) {
                assertEquals(200, stream.status(), "a stream of only the allowed rooms opens");
            }
        }
    }

    private static HttpResponse<String> get(TestServer server, String path, String token) throws Exception {
        return server.http.send(HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aTokenWithoutRoomsOrWithAnEmptyRoomsClaimMayUseNoRoom() throws Exception {
        String room = TestServer.room("denied");
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET)) {
            for (Object rooms : java.util.Arrays.asList(null, List.of(), "")) {
                String token = hs256(claims("alice", 300).claim("rooms", rooms).build(), SECRET);
                assertError(post(server, room, Json.object("body", "x"), token), 403, "room_forbidden");
                HttpResponse<String> history = server.http.send(HttpRequest.newBuilder(
                        server.uri("/api/rooms/" + room + "/messages")).header("Authorization", "Bearer " + token).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertError(history, 403, "room_forbidden");
            }
            assertEquals(List.of(), TestDatabase.seqs(room));
        }
    }

    @Test
    void withTheRoomsClaimTurnedOffEveryTokenMayUseEveryRoom() throws Exception {
        String room = TestServer.room("open");
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET, "pgchat.auth.rooms.claim", "")) {
            String token = hs256(claims("alice", 300).claim("rooms", List.of()).build(), SECRET);
            assertEquals(201, post(server, room, Json.object("body", "x"), token).statusCode());
        }
    }

    @Test
    void aSessionCookieLetsEventSourceSubscribe() throws Exception {
        String room = TestServer.room("cookie");
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET)) {
            String token = hs256(claims("alice", 300).build(), SECRET);
            String cookie = sessionCookie(server, token);
            assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/api"),
                    cookie);
            assertFalse(cookie.contains("Secure"), "over plain HTTP a Secure cookie would never come back: " + cookie);

            try (SseClient stream = server.subscribe(TestServer.events(room), "Cookie", cookie.split(";")[0])) {
                assertEquals(200, stream.status());
                SseClient.awaitOpen(stream);
                post(server, room, Json.object("body", "by cookie"), token);
                assertEquals("by cookie", Json.parse(stream.next().data()).get("body").asText());
            }
        }
    }

    @Test
    void overHttpsTheSessionCookieIsSecure(@TempDir Path dir) throws Exception {
        TestCertificate certificate = TestCertificate.create(dir);
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET,
                "pgchat.tls.key", certificate.key().toString(), "pgchat.tls.certificate", certificate.certificate().toString())) {
            String cookie = sessionCookie(server, hs256(claims("alice", 300).build(), SECRET));
            assertTrue(cookie.endsWith("; Secure"), cookie);
        }
    }

    @Test
    void behindATrustedProxyThatTerminatesTlsTheSessionCookieIsSecure() throws Exception {
        String token = hs256(claims("alice", 300).build(), SECRET);
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET,
                "pgchat.limits.trusted.proxies", "127.0.0.0/8")) {
            assertTrue(sessionCookie(server, token, "X-Forwarded-Proto", "https").endsWith("; Secure"));
            assertFalse(sessionCookie(server, token, "X-Forwarded-Proto", "http").contains("Secure"));
        }
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET,
                "pgchat.limits.trusted.proxies", "10.0.0.0/8")) {
            String cookie = sessionCookie(server, token, "X-Forwarded-Proto", "https");
            assertFalse(cookie.contains("Secure"), "anyone but a trusted proxy may claim https: " + cookie);
        }
    }

    /** POST /api/session with the token; insists on 200 for alice and returns the Set-Cookie header. */
    private static String sessionCookie(TestServer server, String token, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri("/api/session"))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> session = server.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, session.statusCode(), session.body());
        assertEquals("alice", Json.parse(session.body()).get("author").asText());
        return session.headers().firstValue("Set-Cookie").orElseThrow();
    }

    @Test
    void tokensNeverAppearInTheLog() throws Exception {
        List<String> logged = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getMessage() + " " + record.getThrown());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger.getLogger("").addHandler(capture);
        try (TestServer server = TestServer.start("pgchat.auth.hs256.secret", SECRET)) {
            String forged = hs256(claims("alice", 300).build(), "another-secret-that-is-32-bytes-long!");
            HttpResponse<String> response = post(server, TestServer.room("log"), Json.object("body", "x"), forged);
            assertEquals(401, response.statusCode());
            assertFalse(response.body().contains(forged.substring(forged.lastIndexOf('.') + 1)));
        } finally {
            Logger.getLogger("").removeHandler(capture);
        }
        assertFalse(logged.isEmpty(), "the server logged its start and stop");
        assertTrue(logged.stream().noneMatch(line -> line.contains("eyJ")), "a JWT in the log: " + logged);
    }

    private static HttpResponse<String> post(TestServer server, String room, String json, String token) throws Exception {
        return server.http.send(HttpRequest.newBuilder(server.uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A token for every room: without a rooms claim a token may use none. */
    private static JWTClaimsSet.Builder claims(String name, long expiresInSeconds) {
        return new JWTClaimsSet.Builder().subject(name + "-id").claim("name", name).claim("rooms", "*")
                .expirationTime(Date.from(Instant.now().plusSeconds(expiresInSeconds)));
    }

    private static String hs256(JWTClaimsSet claims, String secret) throws Exception {
        return sign(claims, new MACSigner(secret.getBytes()), JWSAlgorithm.HS256);
    }

    private static String sign(JWTClaimsSet claims, JWSSigner signer, JWSAlgorithm algorithm) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String pem(ECKey key) throws Exception {
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(key.toECPublicKey().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }
}
