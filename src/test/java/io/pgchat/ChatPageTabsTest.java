package io.pgchat;

import io.pgchat.testing.Await;
import io.pgchat.testing.Browser;
import io.pgchat.testing.ChatPage;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many tabs of one browser (one profile) in a real Chromium: a browser opens at most 6 HTTP/1.1
 * connections per host, so the tabs share one stream, held by one of them and relayed to the others.
 */
class ChatPageTabsTest {

    private static final int TABS = 8;
    private static final long LIVE_WITHIN_MS = 2000;

    @BeforeAll
    static void browserInstalled() {
        Browser.assumeInstalled();
    }

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void eightTabsShareOneStreamAndATakeoverLosesNothing() throws Exception {
        List<String> rooms = List.of(TestServer.room("tabs-a"), TestServer.room("tabs-b"), TestServer.room("tabs-c"));
        String quiet = TestServer.room("tabs-quiet");
        // Its own server: the streams it counts are this browser's alone.
        try (TestServer server = TestServer.start(); Browser browser = Browser.start()) {
            Map<String, List<String>> shown = new HashMap<>();
            for (String room : rooms) {
                server.say(room, "carol", "history of " + room);
                shown.put(room, new ArrayList<>(List.of("history of " + room)));
            }
            server.say(quiet, "carol", "quiet 1");
            // The first tab reads the quiet room and moves on: the quiet room's unread count is watched below.
            ChatPage first = ChatPage.open(browser, server, quiet).joinAs("dana").awaitLive();
            first.awaitBodies(List.of("quiet 1"));
            first.go(rooms.getFirst());

            List<ChatPage> tabs = new ArrayList<>(List.of(first));
            while (tabs.size() < TABS) {
                tabs.add(ChatPage.openTab(browser, server, rooms.get(tabs.size() % rooms.size())));
            }
            for (int i = 0; i < TABS; i++) {
                ChatPage tab = tabs.get(i);
                tab.awaitLive();
                tab.awaitBodies(shown.get(room(rooms, i)));
                tab.noteArrivals();
            }

            long posted = System.currentTimeMillis();
            say(server, rooms, shown, "live to ");
            for (int i = 0; i < TABS; i++) {
                String room = room(rooms, i);
                tabs.get(i).awaitBodies(shown.get(room));
                long delay = tabs.get(i).arrivedAt("live to " + room) - posted;
                assertTrue(delay <= LIVE_WITHIN_MS, "tab " + i + " showed its room's message after " + delay + " ms");
            }
            awaitOneStream(server);
            ChatPage leader = theLeader(browser, tabs);

            browser.closeTab(leader.tab);
            int closed = tabs.indexOf(leader);
            tabs.set(closed, null);
            say(server, rooms, shown, "during the takeover 1 to ");
            say(server, rooms, shown, "during the takeover 2 to ");
            List<ChatPage> open = tabs.stream().filter(tab -> tab != null).toList();
            ChatPage next = theLeader(browser, open);
            say(server, rooms, shown, "after the takeover to ");
            for (int i = 0; i < TABS; i++) {
                if (i != closed) {
                    tabs.get(i).awaitBodies(shown.get(room(rooms, i)));
                    tabs.get(i).awaitLive();
                }
            }
            awaitOneStream(server);

            assertEquals("", next.unread(quiet), "the quiet room was read");
            assertTrue(next.roomsListReadsAnsweredSince(0) >= 1, "the tab's record shows the rooms list it loaded");
            // Coming into view (as the test switched to it) the tab may be reading the list: let it finish.
            browser.await("the tab is not reading the rooms list", () -> !next.roomsListBusy());
            long quietPosted = System.currentTimeMillis();
            server.say(quiet, "carol", "quiet 2");
            browser.awaitEquals("1", () -> next.unread(quiet), "the quiet room's unread count");
            assertEquals(0, next.roomsListReadsAnsweredSince(quietPosted),
                    "the count came with the stream: no rooms list was read since the message was posted");
            for (ChatPage tab : open) {
                browser.use(tab.tab);
                assertEquals(List.of(), browser.consoleErrors());
            }
        }
    }

    private static String room(List<String> rooms, int tab) {
        return rooms.get(tab % rooms.size());
    }

    /** Posts one message to each room, with the HTTP API, and notes that each room should show it. */
    private static void say(TestServer server, List<String> rooms, Map<String, List<String>> shown, String prefix)
            throws Exception {
        for (String room : rooms) {
            server.say(room, "erin", prefix + room);
            shown.get(room).add(prefix + room);
        }
    }

    /** A replaced stream stays counted until the server notices it closed (a heartbeat later). */
    private static void awaitOneStream(TestServer server) throws Exception {
        double[] open = {0};
        Await.until(Duration.ofSeconds(20), () -> "streams open for the browser's tabs: " + open[0],
                () -> (open[0] = server.metric("pgchat_subscribers")) == 1);
    }

    /** The one tab that holds the stream: every other says it follows. */
    private static ChatPage theLeader(Browser browser, List<ChatPage> tabs) {
        browser.await("one tab holds the stream, the others follow it",
                () -> tabs.stream().filter(tab -> tab.streamRole().equals("leader")).count() == 1
                        && tabs.stream().allMatch(tab -> List.of("leader", "follower").contains(tab.streamRole())));
        return tabs.stream().filter(tab -> tab.streamRole().equals("leader")).findFirst().orElseThrow();
    }
}
