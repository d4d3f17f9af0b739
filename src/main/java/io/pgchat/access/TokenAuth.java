package io.pgchat.access;

import io.pgchat.ApiError;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.proc.SingleKeyJWSKeySelector;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import io.helidon.config.Config;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Optional sign-in, off unless a key is configured. Then every API call needs a signed token (JWT,
 * verified by nimbus-jose-jwt with the one algorithm the key allows): from the Authorization header,
 * or from the HttpOnly cookie that POST /api/session sets, because EventSource cannot send headers.
 * The author is the token's claim, whatever a body says, and its rooms claim lists the rooms it may use.
 */
public final class TokenAuth {

    static final String COOKIE = "pgchat_token";

    /** Who a verified token names, and the rooms it may use ("*": all; empty: none). */
    public record Caller(String author, Set<String> rooms, long expiresAtEpochSecond) {
        void checkRoom(String room) {
            if (!mayUse(room)) {
                throw new ApiError(Status.FORBIDDEN_403, "room_forbidden", "Your token does not allow room " + room
                        + " (its rooms claim lists the rooms it may use, \"*\" for all; without one, none).");
            }
        }

        boolean mayUse(String room) {
            return rooms.contains(ALL_ROOMS) || rooms.contains(room);
        }
    }

    private static final String ALL_ROOMS = "*";

    private final DefaultJWTProcessor<SecurityContext> processor;
    private final String authorClaim;
    private final String roomsClaim;

    private TokenAuth(DefaultJWTProcessor<SecurityContext> processor, String authorClaim, String roomsClaim) {
        this.processor = processor;
        this.authorClaim = authorClaim;
        this.roomsClaim = roomsClaim;
    }

    /** Empty when no key is configured: the chat stays open, as by default. */
    public static Optional<TokenAuth> from(Config auth) {
        Optional<String> secret = auth.get("hs256.secret").asString().filter(s -> !s.isBlank());
        Optional<String> publicKey = auth.get("public.key").asString().filter(s -> !s.isBlank());
        if (secret.isEmpty() && publicKey.isEmpty()) {
            return Optional.empty();
        }
        JWSAlgorithm algorithm;
        Key key;
        if (secret.isPresent()) {
            byte[] bytes = secret.get().getBytes(StandardCharsets.UTF_8);
            if (bytes.length < 32) {
                throw new IllegalStateException("pgchat.auth.hs256.secret must be at least 32 bytes long");
            }
            algorithm = JWSAlgorithm.HS256;
            key = new SecretKeySpec(bytes, "HmacSHA256");
        } else {
            key = publicKey(publicKey.get());
            algorithm = JWSAlgorithm.parse(auth.get("algorithm").asString().filter(s -> !s.isBlank())
                    .orElse(key.getAlgorithm().equals("EC") ? "ES256" : "RS256"));
        }
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(new SingleKeyJWSKeySelector<>(algorithm, key));
        JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
        auth.get("issuer").asString().filter(s -> !s.isBlank()).ifPresent(exact::issuer);
        String authorClaim = auth.get("author.claim").asString().orElse("name");
        processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(
                auth.get("audience").asString().filter(s -> !s.isBlank()).orElse(null),
                exact.build(), Set.of("exp")));
        return Optional.of(new TokenAuth(processor, authorClaim, auth.get("rooms.claim").asString().orElse("rooms")));
    }

    /** The caller a valid token names; 401 without one. */
    Caller require(ServerRequest req) {
        String token = token(req).orElseThrow(() -> unauthorized("unauthorized",
                "Sign in: send a token as 'Authorization: Bearer <JWT>' or get a session cookie from POST /api/session."));
        JWTClaimsSet claims;
        try {
            claims = processor.process(token, null);
        } catch (ExpiredJWTException e) {
            throw unauthorized("token_expired", "Your token has expired; sign in again.");
        } catch (ParseException | BadJOSEException | JOSEException e) {
            throw unauthorized("invalid_token", "The token is not valid here (" + e.getMessage() + ").");
        }
        String author = stringClaim(claims, authorClaim).or(() -> Optional.ofNullable(claims.getSubject()))
                .orElseThrow(() -> unauthorized("invalid_token", "The token names no author (claim '" + authorClaim + "')."));
        return new Caller(author, rooms(claims), claims.getExpirationTime().toInstant().getEpochSecond());
    }

    /**
     * Deny by default: a token without the claim, or with an empty or null one, may use no room; only
     * "*" means all. A configured claim name of "" turns room restriction off (every token, every room).
     */
    private Set<String> rooms(JWTClaimsSet claims) {
        if (roomsClaim.isBlank()) {
            return Set.of(ALL_ROOMS);
        }
        Object value = claims.getClaim(roomsClaim);
        if (value instanceof List<?> list) {
            Set<String> rooms = new HashSet<>();
            list.forEach(room -> rooms.add(String.valueOf(room)));
            return rooms;
        }
        return value instanceof String room ? Set.of(room) : Set.of();
    }

    private static Optional<String> stringClaim(JWTClaimsSet claims, String name) {
        Object value = claims.getClaim(name);
        return value instanceof String s && !s.isBlank() ? Optional.of(s) : Optional.empty();
    }

    private static Optional<String> token(ServerRequest req) {
        Optional<String> bearer = bearer(req);
        return bearer.isPresent() ? bearer : req.headers().cookies().first(COOKIE).asOptional();
    }

    static Optional<String> bearer(ServerRequest req) {
        return req.headers().first(HeaderNames.AUTHORIZATION)
                .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(h -> h.substring(7).strip())
                .filter(t -> !t.isEmpty());
    }

    private static ApiError unauthorized(String code, String message) {
        return new ApiError(Status.UNAUTHORIZED_401, code, message);
    }

    /** An RSA or EC public key in PEM ("BEGIN PUBLIC KEY"), as identity providers publish them. */
    private static Key publicKey(String pem) {
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        for (String type : List.of("RSA", "EC")) {
            try {
                return KeyFactory.getInstance(type).generatePublic(new X509EncodedKeySpec(der));
            } catch (Exception notThisType) {
                // try the next
            }
        }
        throw new IllegalStateException("pgchat.auth.public.key is not an RSA or EC public key in PEM");
    }
}
