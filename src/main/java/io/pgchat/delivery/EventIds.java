package io.pgchat.delivery;

/**
 * What a stream's event ids count: the room's seq for the stream of one room, the log position for
 * a stream of many rooms, so that one Last-Event-ID resumes every room.
 */
enum EventIds {
    ROOM_SEQ,
    LOG_POS
}
