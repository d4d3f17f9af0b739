package io.pgchat.edge;

import io.pgchat.testing.ServerPerClass;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The page is served so that it can run only its own code, and each of its files with its type. */
class SecurityHeadersTest {

    @RegisterExtension
    static final ServerPerClass running = new ServerPerClass();

    @Test
    void apiAnswersCarryTheSameHeadersErrorsIncluded() throws Exception {
        for (String path : new String[] {"/api/rooms", "/api/rooms/general/messages", "/api/nothing", "/api/rooms/a.b/events"}) {
            HttpResponse<String> answer = server().get(path);
            assertTrue(header(answer, "Content-Security-Policy").contains("default-src 'self'"), path);
            assertEquals("nosniff", header(answer, "X-Content-Type-Options"), path);
            assertEquals("no-referrer", header(answer, "Referrer-Policy"), path);
        }
    }

    @Test
    void thePageForbidsInlineScriptAndAnythingFromElsewhere() throws Exception {
        HttpResponse<String> page = server().get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<script type=\"module\" src=\"app.js\">"), "the page itself, not a placeholder");
        String policy = header(page, "Content-Security-Policy");
        for (String directive : new String[] {"default-src 'self'", "script-src 'self'", "style-src 'self'",
                "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"}) {
            assertTrue(policy.contains(directive + ";") || policy.endsWith(directive), directive + " in " + policy);
        }
        assertFalse(policy.contains("unsafe"), policy);
        assertEquals("nosniff", header(page, "X-Content-Type-Options"));
        assertEquals("no-referrer", header(page, "Referrer-Policy"));
    }

    @Test
    void everyFileOfThePageIsServedWithItsType() throws Exception {
        Map<String, String> types = Map.of("/", "text/html", "/index.html", "text/html", "/app.js", "text/javascript",
                "/open-room.js", "text/javascript", "/style.css", "text/css", "/favicon.svg", "image/svg+xml");
        for (var file : types.entrySet()) {
            HttpResponse<String> response = server().get(file.getKey());
            assertEquals(200, response.statusCode(), file.getKey());
            assertEquals(file.getValue(), header(response, "Content-Type").split(";")[0], file.getKey());
            assertEquals("nosniff", header(response, "X-Content-Type-Options"), file.getKey());
        }
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElseThrow(() -> new AssertionError("no " + name + " header"));
    }

    private static TestServer server() {
        return running.get();
    }
}
