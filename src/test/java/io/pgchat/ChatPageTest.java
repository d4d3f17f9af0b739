package io.pgchat;

import io.pgchat.posting.MessageInput;
import io.pgchat.testing.Browser;
import io.pgchat.testing.ChatPage;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat page in a real browser (the system's headless Chromium): what people see and do, live
 * delivery between pages, recovery after the server restarts, content shown as text, a phone screen.
 * Screenshots of the key states land in target/screenshots.
 */
class ChatPageTest {

    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        Browser.assumeInstalled();
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void aMessageSentOnOnePageAppearsLiveOnAnotherInTheSameRoom() throws Exception {
        String room = TestServer.room("live");
        server.say(room, "carol", "Morning! Standup moved to 10:30.");
        server.say(room, "carol", "Agenda: https://example.com/standup");
        try (Browser alicesBrowser = Browser.start(); Browser bobsBrowser = Browser.start()) {
            bobsBrowser.timeZone("Asia/Kathmandu");
            ChatPage alice = ChatPage.open(alicesBrowser, server, room).joinAs("alice").awaitLive();
            ChatPage bob = ChatPage.open(bobsBrowser, server, room).joinAs("bob").awaitLive();
            List<String> history = List.of("Morning! Standup moved to 10:30.", "Agenda: https://example.com/standup");
            assertEquals(history, alice.bodies(), "the room's history shows at once");
            assertEquals(history, bob.bodies());
            bobsBrowser.js("window.notReloaded = true");

            alice.type("Thanks carol", Keys.ENTER);
            alice.type("Two lines:", Keys.chord(Keys.SHIFT, Keys.ENTER), "this is the second", Keys.ENTER);

            List<String> all = List.of(history.get(0), history.get(1), "Thanks carol", "Two lines:\nthis is the second");
            bob.awaitBodies(all);
            alice.awaitBodies(all);
            assertEquals(true, bobsBrowser.js("return window.notReloaded === true"), "live, without a reload");
            assertTrue(bob.announced().contains("alice: Thanks carol"), "announced to screen readers: " + bob.announced());

            ChatPage.Shown first = bob.messages().get(2);
            ChatPage.Shown second = bob.messages().get(3);
            assertFalse(first.own(), "alice's message is not bob's own");
            assertFalse(first.continued(), "a new author starts a group");
            assertTrue(second.continued(), "alice's second message joins her first");
            assertTrue(alice.messages().get(2).own() && alice.messages().get(3).own(), "alice's own messages are marked");
            assertEquals(localTime(first.sentAt(), "Asia/Kathmandu"), plainSpaces(first.time()), "time in the reader's zone");
            assertEquals(0, alicesBrowser.driver.findElements(By.cssSelector(".message:not(.pending) .status")).size());

            bob.type("See you there", Keys.ENTER);
            alice.awaitBodies(List.of(all.get(0), all.get(1), all.get(2), all.get(3), "See you there"));

            alicesBrowser.screenshot("desktop-light");
            bobsBrowser.darkMode();
            bobsBrowser.screenshot("desktop-dark");
            assertEquals(List.of(), alicesBrowser.consoleErrors());
            assertEquals(List.of(), bobsBrowser.consoleErrors());
        }
    }

    @Test
    void aPageThatLosesItsServerShowsEveryMessagePostedMeanwhileOnceAndInOrder() throws Exception {
        String room = TestServer.room("restart");
        TestServer pagesServer = TestServer.start();
        int port = pagesServer.chat.port();
        TestServer restarted = null;
        try (Browser browser = Browser.start()) {
            ChatPage page = ChatPage.open(browser, pagesServer, room).joinAs("dana").awaitLive();
            server.say(room, "erin", "before 1");
            page.awaitBodies(List.of("before 1"));

            pagesServer.close();
            pagesServer = null;
            browser.await("the page notices the server is gone", () -> !page.state().equals("live"));
            for (int i = 1; i <= 3; i++) {
                server.say(room, "erin", "meanwhile " + i);
            }
            page.type("typed while the server is away", Keys.ENTER);
            browser.await("the page says why the message was not sent", () -> page.sendError().startsWith("Not sent"));
            assertEquals("typed while the server is away", page.composerText(), "the text is kept");
            browser.awaitEquals("offline", page::state, "the connection state after a few seconds");
            browser.screenshot("restart-offline");

            restarted = TestServer.start("server.port", String.valueOf(port));
            page.awaitLive();
            page.awaitBodies(List.of("before 1", "meanwhile 1", "meanwhile 2", "meanwhile 3"));
            page.type(Keys.ENTER);
            page.awaitBodies(List.of("before 1", "meanwhile 1", "meanwhile 2", "meanwhile 3",
                    "typed while the server is away"));
            server.say(room, "erin", "after");
            page.awaitBodies(List.of("before 1", "meanwhile 1", "meanwhile 2", "meanwhile 3",
                    "typed while the server is away", "after"));
            assertEquals("", page.sendError(), "a successful send clears the error");
            browser.screenshot("restart-recovered");
        } finally {
            for (TestServer running : java.util.Arrays.asList(pagesServer, restarted)) {
                if (running != null) {
                    running.close();
                }
            }
        }
    }

    @Test
    void onAServerThatRequiresSignInThePageSaysSo() throws Exception {
        try (TestServer locked = TestServer.start("pgchat.auth.hs256.secret", "a-shared-secret-of-at-least-32-bytes!");
             Browser browser = Browser.start()) {
            ChatPage page = ChatPage.open(browser, locked, TestServer.room("locked")).joinAs("gus");
            browser.awaitEquals("denied", page::state, "the connection state");
            assertEquals("Sign-in needed", browser.js("return document.getElementById('connection-text').textContent"));
            browser.await("the reason is shown", () -> String.valueOf(
                    browser.js("return document.getElementById('toast').textContent")).contains("Sign in"));
            browser.screenshot("sign-in-needed");
        }
    }

    @Test
    void aFailedSendIsRetriedWithItsOwnKeyWhileTheSameWordsSentAnewAreANewMessage() throws Exception {
        String room = TestServer.room("retry");
        try (Browser browser = Browser.start()) {
            ChatPage page = ChatPage.open(browser, server, room).joinAs("hana").awaitLive();
            page.loseNextAnswer();
            page.type("ok", Keys.ENTER);
            browser.await("the page says why the message was not sent", () -> page.sendError().startsWith("Not sent"));
            page.awaitBodies(List.of("ok"));
            assertEquals("ok", page.composerText(), "the text is back in the box");

            page.type(Keys.ENTER);
            browser.await("the retry is answered", () -> page.sent() && page.sendError().isEmpty());
            assertEquals(List.of("ok"), TestDatabase.bodies(room), "the retry of a stored send stores nothing");

            page.loseNextAnswer();
            page.type("ok", Keys.ENTER);
            browser.await("the page says why the message was not sent", () -> page.sendError().startsWith("Not sent"));
            page.awaitBodies(List.of("ok", "ok"));
            page.type(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
            page.type("ok", Keys.ENTER);
            page.awaitBodies(List.of("ok", "ok", "ok"));
            assertEquals(List.of("ok", "ok", "ok"), TestDatabase.bodies(room),
                    "words typed anew after a failed send are a new message, not its retry");
            assertEquals(List.of(), browser.consoleErrors());
        }
    }

    /** The answers GracefulStop and a lost database give (see ApiError), each explained as what it is. */
    @Test
    void aStoppingServerIsNotMistakenForALostDatabase() throws Exception {
        String room = TestServer.room("stopping");
        try (Browser browser = Browser.start()) {
            ChatPage page = ChatPage.open(browser, server, room).joinAs("ivan").awaitLive();
            page.answerNextPostWith(503, "shutting_down", "This server is stopping; retry, another server will answer.");
            page.type("still there?", Keys.ENTER);
            browser.await("the page says why the message was not sent", () -> page.sendError().startsWith("Not sent"));
            assertEquals("Not sent: this server is stopping (a restart or an update); try again in 1 s. "
                    + "Your text is back in the box.", page.sendError());

            page.type(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
            page.answerNextPostWith(503, "unavailable", "The database did not answer in time.");
            page.type("and now?", Keys.ENTER);
            browser.await("the page says why", () -> page.sendError().startsWith("Not sent: the server cannot reach its database"));
        }
    }

    /** Shift+Enter grows the box up to its cap; the list above shrinks and must keep the newest message in view. */
    @Test
    void aTallMessageBoxDoesNotHideTheNewestMessages() throws Exception {
        String room = TestServer.room("tall");
        List<String> all = new ArrayList<>();
        for (int i = 1; i <= 40; i++) {
            all.add("message " + i);
            server.say(room, "kim", "message " + i);
        }
        try (Browser browser = Browser.start()) {
            ChatPage page = ChatPage.open(browser, server, room).joinAs("lee").awaitLive();
            page.awaitBodies(all);
            browser.await("the newest message is in view", page::newestInView);
            long before = page.element("composer-input").getRect().getHeight();
            for (int line = 1; line < 15; line++) {
                page.type("line " + line, Keys.chord(Keys.SHIFT, Keys.ENTER));
            }
            page.type("line 15");
            assertTrue(page.element("composer-input").getRect().getHeight() > before + 100, "the box grew");
            browser.await("the newest message is still in view above the tall box", page::newestInView);
            browser.screenshot("tall-composer");
            assertEquals(List.of(), browser.consoleErrors());
        }
    }

    @Test
    void scrollingUpLoadsOlderMessagesInOrder() throws Exception {
        String room = TestServer.room("older");
        List<String> all = new ArrayList<>();
        for (int i = 1; i <= 120; i++) {
            all.add("message " + i);
            server.say(room, i % 3 == 0 ? "carol" : "dave", "message " + i);
        }
        try (Browser browser = Browser.start()) {
            ChatPage page = ChatPage.open(browser, server, room).joinAs("erin").awaitLive();
            page.awaitBodies(all.subList(70, 120));
            assertTrue((Boolean) browser.js("const s = document.getElementById('scroller');"
                    + " return s.scrollTop + s.clientHeight >= s.scrollHeight - 1"), "the newest message is in view");

            page.element("scroller").sendKeys(Keys.HOME);
            page.awaitBodies(all.subList(20, 120));
            page.element("scroller").sendKeys(Keys.HOME);
            page.awaitBodies(all);
            browser.await("the start of the room is marked", () -> page.element("beginning").isDisplayed());
            assertEquals(List.of(), browser.consoleErrors());
        }
    }

    @Test
    void messageContentIsShownAsTextAndNeverRuns() throws Exception {
        String room = TestServer.room("xss");
        String image = "<img src=x onerror=window.__xss=1>";
        String script = "<script>window.__xss=2</script>";
        String author = "<b onmouseover=window.__xss=3>mallory</b>";
        server.say(room, author, image);
        try (Browser browser = Browser.start()) {
            ChatPage page = ChatPage.open(browser, server, room).joinAs("<i>me</i>").awaitLive();
            server.say(room, author, script);
            page.type("<svg onload=window.__xss=4>", Keys.ENTER);

            page.awaitBodies(List.of(image, script, "<svg onload=window.__xss=4>"));
            assertEquals(author, page.messages().get(0).author());
            assertTrue(page.messages().get(2).own(), "a name with markup still marks one's own messages");
            WebElement log = page.element("messages");
            assertEquals(List.of(), log.findElements(By.cssSelector("img, script, b, i, svg")), "no element from content");
            assertTrue(log.getText().contains("<img src=x onerror=window.__xss=1>"), "the characters are shown");
            assertNull(browser.js("return window.__xss"), "nothing ran");
            browser.screenshot("content-as-text");
            assertEquals(List.of(), browser.consoleErrors());
        }
    }

    @Test
    void onAPhoneSizedScreenEverythingWorksWithTheKeyboardAlone() throws Exception {
        String room = TestServer.room("phone");
        String other = TestServer.room("phone-other");
        server.say(other, "carol", "Lunch at noon?");
        try (Browser browser = Browser.start()) {
            browser.phone();
            ChatPage page = ChatPage.open(browser, server, other);
            browser.await("a first visit asks for a name", () -> page.element("name-dialog").isDisplayed());
            browser.screenshot("phone-welcome");
            page.joinAs("frank").awaitLive();
            page.awaitBodies(List.of("Lunch at noon?"));
            assertTrue(fitsWidth(browser), "nothing wider than the screen");
            assertFalse(page.element("sidebar").isDisplayed(), "the rooms wait in a drawer");

            page.element("rooms-toggle").sendKeys(Keys.ENTER);
            browser.await("the drawer opens", () -> page.element("new-room-name").isDisplayed());
            page.element("new-room-name").sendKeys("lunch plans", Keys.ENTER);
            browser.await("the name is refused with a suggestion",
                    () -> page.element("new-room-hint").getText().contains("try “lunch-plans”"));
            browser.screenshot("phone-rooms-invalid-name");
            page.element("new-room-name").clear();
            page.element("new-room-name").sendKeys(room, Keys.ENTER);
            browser.await("the new room opens", () -> browser.driver.getCurrentUrl().endsWith("#/" + room)
                    && page.element("room-name").getText().equals(room) && page.state().equals("live"));
            browser.await("the drawer closes", () -> !page.element("sidebar").isDisplayed());

            page.type("Hi from my phone", Keys.ENTER);
            page.awaitBodies(List.of("Hi from my phone"));
            assertTrue(page.messages().getFirst().own());

            String tooLong = "x".repeat(MessageInput.MAX_BODY + 1);
            browser.js("const box = document.getElementById('composer-input'); box.value = arguments[0];"
                    + " box.dispatchEvent(new Event('input'));", tooLong);
            page.type(Keys.ENTER);
            browser.await("the page says the message is too long", () -> page.sendError().contains("the limit is 4000"));
            assertEquals(tooLong, page.composerText(), "the text is kept");
            page.type(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);

            server.say(other, "carol", "Anyone?");
            browser.awaitEquals("1", () -> page.element("unread-total").getText(), "unread count on the rooms button");
            assertTrue(fitsWidth(browser), "nothing wider than the screen");
            browser.screenshot("phone-room");
            page.element("rooms-toggle").sendKeys(Keys.ENTER);
            browser.await("the drawer opens", () -> page.element("rooms").isDisplayed());
            browser.screenshot("phone-rooms");
            browser.darkMode();
            browser.driver.switchTo().activeElement().sendKeys(Keys.ESCAPE);
            browser.await("Escape closes the drawer", () -> !page.element("rooms").isDisplayed());
            browser.screenshot("phone-dark");
            assertEquals(List.of(), browser.consoleErrors());
        }
    }

    private static boolean fitsWidth(Browser browser) {
        return (Boolean) browser.js("return document.documentElement.scrollWidth <= 375"
                + " && document.getElementById('composer-input').getBoundingClientRect().right <= 375");
    }

    /** How en-US shows a time in a zone; some ICU versions put a no-break space before AM/PM. */
    private static String localTime(String instant, String zone) {
        return DateTimeFormatter.ofPattern("h:mm a", Locale.US).withZone(ZoneId.of(zone)).format(Instant.parse(instant));
    }

    private static String plainSpaces(String text) {
        return text.replaceAll("[\\u00A0\\u202F]", " ");
    }
}
