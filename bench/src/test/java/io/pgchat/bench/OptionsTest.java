package io.pgchat.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void multiroomDefaultsToTheIssuesScenario() {
        Options o = Options.parse(new String[] {"multiroom"});
        assertEquals(10_000, o.subscribers);
        assertEquals(1000, o.rooms);
        assertEquals(20, o.roomsPerStream);
        assertEquals(1000.0, o.rate);
        assertEquals(1, o.seed);
        assertEquals(1, Options.parse(new String[] {"rooms"}).rooms);
    }

    @Test
    void multiroomNeedsARateAndNoMoreRoomsPerStreamThanRooms() {
        assertThrows(IllegalArgumentException.class, () -> Options.parse(new String[] {"multiroom", "--rate", "0"}));
        assertThrows(IllegalArgumentException.class,
                () -> Options.parse(new String[] {"multiroom", "--rooms", "10", "--rooms-per-stream", "11"}));
    }
}
