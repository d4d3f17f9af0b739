package io.pgchat.bench;

import java.nio.charset.StandardCharsets;

/** What differs between the servers under test: paths, the post's body and status, what an id means. */
enum Target {

    PGCHAT {
        @Override
        String subscribePath(String room) {
            return "/api/rooms/" + room + "/events";
        }

        @Override
        String multiSubscribePath(String rooms) {
            return "/api/events?rooms=" + rooms;
        }

        @Override
        String postPath(String room) {
            return "/api/rooms/" + room + "/messages";
        }

        @Override
        String contentType() {
            return "application/json";
        }

        @Override
        byte[] postBody(String text) {
            return ("{\"author\":\"bench\",\"body\":\"" + text + "\"}").getBytes(StandardCharsets.UTF_8);
        }

        @Override
        boolean accepted(int status) {
            return status == 201;
        }

        @Override
        boolean idIsSeq() {
            return true;
        }
    },

    NCHAN {
        @Override
        String subscribePath(String room) {
            return "/sub/" + room;
        }

        // nchan/nginx.conf splits the last segment at commas into the channels of one multiplexed stream.
        @Override
        String multiSubscribePath(String rooms) {
            return "/sub/multi/" + rooms;
        }

        @Override
        String postPath(String room) {
            return "/pub/" + room;
        }

        @Override
        String contentType() {
            return "text/plain";
        }

        @Override
        byte[] postBody(String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }

        // Nchan answers 202 when the channel has no subscriber yet, 201 when it has.
        @Override
        boolean accepted(int status) {
            return status == 201 || status == 202;
        }

        // Nchan's ids are its own ("<time>:<n>"): messages are known by the number in their body only.
        @Override
        boolean idIsSeq() {
            return false;
        }
    };

    abstract String subscribePath(String room);

    /** One stream of several rooms, given comma-separated. */
    abstract String multiSubscribePath(String rooms);

    abstract String postPath(String room);

    abstract String contentType();

    abstract byte[] postBody(String text);

    abstract boolean accepted(int status);

    abstract boolean idIsSeq();

    static Target parse(String name) {
        return switch (name) {
            case "pgchat" -> PGCHAT;
            case "nchan" -> NCHAN;
            default -> throw new IllegalArgumentException("--target must be pgchat or nchan, not " + name);
        };
    }

    String label() {
        return name().toLowerCase();
    }
}
