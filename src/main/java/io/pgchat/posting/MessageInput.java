package io.pgchat.posting;

import io.pgchat.ApiError;
import io.pgchat.edge.HttpEdge;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.media.type.MediaType;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;

import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * A message as a client posts it (JSON or an HTML form), accepted only once it is whole and valid:
 * anything refused is refused before a row is written.
 */
public record MessageInput(String author, String body) {

    static final int MAX_AUTHOR = 64;
    public static final int MAX_BODY = 4000;
    private static final Set<String> FIELDS = Set.of("author", "body");
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** authorFromToken, when signed in, replaces whatever author the body names. */
    static MessageInput read(ServerRequest req, int maxBytes, HttpEdge edge, String authorFromToken) {
        MediaType type = req.headers().contentType().map(HttpMediaType::mediaType).orElse(null);
        boolean json = MediaTypes.APPLICATION_JSON.equals(type);
        if (!json && !MediaTypes.APPLICATION_FORM_URLENCODED.equals(type)) {
            throw new ApiError(Status.UNSUPPORTED_MEDIA_TYPE_415, "unsupported_media_type",
                    "Send the message as application/json or application/x-www-form-urlencoded.");
        }
        byte[] content = readAtMost(req, maxBytes, edge);
        return json ? fromJson(content, authorFromToken) : fromForm(content, authorFromToken);
    }

    static MessageInput of(String author, String body) {
        return new MessageInput(
                text("author", author, MAX_AUTHOR, false),
                text("body", body, MAX_BODY, true));
    }

    private static byte[] readAtMost(ServerRequest req, int maxBytes, HttpEdge edge) {
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > maxBytes) {
            throw tooLarge(maxBytes);
        }
        byte[] content;
        try {
            content = edge.readBody(req, maxBytes + 1);
        } catch (TimeoutException e) {
            throw new ApiError(Status.REQUEST_TIMEOUT_408, "request_timeout", "The request body did not arrive in time.");
        } catch (CloseConnectionException | UncheckedIOException | DataReader.InsufficientDataAvailableException gone) {
            throw new CloseConnectionException("The client left while sending its body", gone); // no one to answer
        } catch (RuntimeException malformed) {
            // Helidon's chunk reader refuses a chunk size that is not hex, or too large
            throw ApiError.badRequest("bad_request", "The request body's chunked encoding is malformed.");
        }
        if (content.length > maxBytes) {
            throw tooLarge(maxBytes);
        }
        if (declared >= 0 && content.length != declared) {
            // HTTP/1.1 reads exactly Content-Length bytes; over HTTP/2 the body ends where the client
            // ends its stream, which may be short of it: a message cut short is not stored.
            throw ApiError.badRequest("bad_request", "The body has " + content.length
                    + " bytes, not the " + declared + " its Content-Length says.");
        }
        return content;
    }

    private static ApiError tooLarge(int maxBytes) {
        return new ApiError(Status.REQUEST_ENTITY_TOO_LARGE_413, "too_large",
                "The request body is larger than " + maxBytes + " bytes.");
    }

    private static MessageInput fromJson(byte[] content, String authorFromToken) {
        JsonNode root;
        try {
            root = MAPPER.readTree(utf8(content, "body"));
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("invalid_json", "The body is not valid JSON: " + e.getOriginalMessage());
        }
        if (!(root instanceof ObjectNode object)) {
            throw ApiError.badRequest("invalid_json", "The body must be a JSON object with author and body.");
        }
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw ApiError.badRequest("unknown_field", "Unknown field '" + name + "': only author and body.");
            }
        }
        String author = string(object, "author");
        return of(authorFromToken != null ? authorFromToken : author, string(object, "body"));
    }

    private static String string(ObjectNode object, String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw ApiError.badRequest("invalid_" + field, "The " + field + " must be a string.");
        }
        return value.textValue();
    }

    private static MessageInput fromForm(byte[] content, String authorFromToken) {
        String author = null;
        String body = null;
        for (String pair : new String(content, StandardCharsets.ISO_8859_1).split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : formDecode(pair.substring(eq + 1));
            switch (name) {
                case "author" -> author = value;
                case "body" -> body = value;
                case "" -> { }
                default -> throw ApiError.badRequest("unknown_field",
                        "Unknown field '" + name + "': only author and body.");
            }
        }
        return of(authorFromToken != null ? authorFromToken : author, body);
    }

    /** Percent-decodes, refusing what is not UTF-8 instead of replacing it (as URLDecoder would). */
    private static String formDecode(String raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '+') {
                bytes.write(' ');
            } else if (c == '%') {
                int b = hex(raw, i + 1);
                if (b < 0) {
                    throw ApiError.badRequest("invalid_form", "Broken percent-encoding in the form.");
                }
                bytes.write(b);
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        return utf8(bytes.toByteArray(), "form");
    }

    /**
     * Strict UTF-8, as PostgreSQL checks it: malformed bytes, overlong forms (such as C0 BC for '<')
     * and encoded surrogates are refused, never replaced or decoded leniently.
     */
    private static String utf8(byte[] bytes, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.badRequest("invalid_encoding", "The " + what + " is not valid UTF-8.");
        }
    }

    private static int hex(String s, int at) {
        if (at + 1 >= s.length()) {
            return -1;
        }
        int high = Character.digit(s.charAt(at), 16);
        int low = Character.digit(s.charAt(at + 1), 16);
        return high < 0 || low < 0 ? -1 : high * 16 + low;
    }

    /**
     * Trimmed, 1..max characters (code points, so an emoji is one), no control characters (a body may
     * hold newlines and tabs) and no lone surrogates, which PostgreSQL cannot store. Windows line ends
     * become newlines, as a browser form sends them. Characters are checked before trimming, so no
     * control character is dropped silently from either end.
     */
    private static String text(String field, String value, int max, boolean multiline) {
        if (value == null) {
            throw ApiError.badRequest("missing_" + field, "The " + field + " is required.");
        }
        String text = value.replace("\r\n", "\n");
        if (!text.codePoints().allMatch(cp -> allowed(cp, multiline))) {
            throw ApiError.badRequest("invalid_" + field, "The " + field + " contains control characters"
                    + (multiline ? " other than newline and tab." : "."));
        }
        text = text.strip();
        if (text.isEmpty()) {
            throw ApiError.badRequest("missing_" + field, "The " + field + " is empty.");
        }
        if (text.codePointCount(0, text.length()) > max) {
            throw ApiError.badRequest(field + "_too_long", "The " + field + " is longer than " + max + " characters.");
        }
        return text;
    }

    private static boolean allowed(int cp, boolean multiline) {
        if (Character.isISOControl(cp)) {
            return multiline && (cp == '\n' || cp == '\t');
        }
        return Character.getType(cp) != Character.SURROGATE;
    }
}
