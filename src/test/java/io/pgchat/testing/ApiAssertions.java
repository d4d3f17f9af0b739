package io.pgchat.testing;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every refused request must look like: its status and a JSON body naming the problem. */
public final class ApiAssertions {

    private ApiAssertions() {
    }

    public static void assertError(HttpResponse<String> response, int status, String code) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""), response.body());
        JsonNode error = Json.parse(response.body());
        assertEquals(code, error.get("error").asText(), response.body());
        assertTrue(error.get("message").asText().length() > 5, response.body());
    }
}
