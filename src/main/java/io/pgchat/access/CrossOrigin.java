package io.pgchat.access;

import io.pgchat.ApiError;

import io.helidon.cors.CrossOriginConfig;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.cors.CorsSupport;
import io.helidon.webserver.http.ServerRequest;

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * Which web pages may use the API from a browser: the server's own, plus the origins configured.
 * Reading across origins is left to the browser and Helidon's CORS support; posting is checked here
 * too, because a browser sends a cross-site form post without asking first.
 */
public final class CrossOrigin {

    private final List<String> allowed;

    public CrossOrigin(List<String> allowed) {
        this.allowed = allowed;
    }

    /** CORS headers for the configured origins; none (same origin only) when none are configured. */
    public Optional<CorsSupport> cors() {
        if (allowed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(CorsSupport.builder()
                .addCrossOrigin(CrossOriginConfig.builder()
                        .allowOrigins(allowed.toArray(String[]::new))
                        .allowMethods("GET", "POST")
                        .allowHeaders("Content-Type", "Last-Event-ID", "Authorization")
                        .build())
                .build());
    }

    /** A post that a browser sent from another site's page is refused (403). */
    public void checkPost(ServerRequest req) {
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isEmpty() || allowed.contains(origin.get()) || sameHost(origin.get(), req)) {
            return;
        }
        throw new ApiError(Status.FORBIDDEN_403, "origin_not_allowed",
                "Posts from pages of " + origin.get() + " are not allowed (pgchat.cors.origins).");
    }

    private static boolean sameHost(String origin, ServerRequest req) {
        try {
            URI uri = URI.create(origin);
            String host = req.headers().first(HeaderNames.HOST).orElse("");
            return uri.getRawAuthority() != null && uri.getRawAuthority().equalsIgnoreCase(host);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
