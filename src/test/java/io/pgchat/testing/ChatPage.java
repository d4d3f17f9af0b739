package io.pgchat.testing;

import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

import java.util.List;

/** The chat page as a person meets it, in one tab of a browser: what the screen shows, and the keyboard. */
public final class ChatPage {

    /** A stored message as shown: pending ones (still being sent) are not included. */
    public record Shown(String author, String body, boolean own, boolean continued, String time, String sentAt) {
    }

    final Browser browser;
    /** The browser's tab that shows this page: every call goes to it. */
    public final String tab;

    private ChatPage(Browser browser, String tab) {
        this.browser = browser;
        this.tab = tab;
    }

    public static ChatPage open(Browser browser, TestServer server, String room) {
        browser.open(server.uri("/#/" + room));
        return new ChatPage(browser, browser.driver.getWindowHandle());
    }

    /** The page in a new tab of the same browser, as one person opens several. */
    public static ChatPage openTab(Browser browser, TestServer server, String room) {
        browser.newTab();
        return open(browser, server, room);
    }

    /** Answers the welcome dialog as a first-time visitor does: types a name and presses Enter. */
    public ChatPage joinAs(String name) {
        browser.await("the welcome dialog opens", () -> element("name-dialog").isDisplayed());
        browser.driver.switchTo().activeElement().sendKeys(name, Keys.ENTER);
        browser.await("the welcome dialog closes", () -> !element("name-dialog").isDisplayed());
        return this;
    }

    /** Opens another room in this tab, as a link to it does. */
    public void go(String room) {
        js("location.hash = arguments[0]", "#/" + room);
    }

    public ChatPage awaitLive() {
        browser.awaitEquals("live", this::state, "the connection state");
        return this;
    }

    public String state() {
        return element("connection").getAttribute("data-state");
    }

    /** "leader" when this tab holds the browser's stream, "follower" when it hears it from the tab that does. */
    public String streamRole() {
        return (String) js("return document.documentElement.dataset.streamRole ?? ''");
    }

    /** The unread count the rooms list shows for a room, "" when none. */
    public String unread(String room) {
        return (String) js("const badge = document.querySelector(`#rooms a[href=\"#/${arguments[0]}\"] .badge`);"
                + " return !badge || badge.hidden ? '' : badge.firstChild.textContent;", room);
    }

    /** Whether the tab is reading GET /api/rooms now (the list says so to screen readers). */
    public boolean roomsListBusy() {
        return element("rooms").getDomAttribute("aria-busy") != null;
    }

    /**
     * How many answers to GET /api/rooms this tab began to receive at or after a moment (epoch ms), by
     * its own record of its requests: only those can hold what the server stored after that moment.
     */
    public long roomsListReadsAnsweredSince(long epochMillis) {
        return (Long) js("return performance.getEntriesByType('resource').filter(entry =>"
                + " new URL(entry.name).pathname === '/api/rooms'"
                + " && performance.timeOrigin + entry.responseStart >= arguments[0]).length", epochMillis);
    }

    /** From now on the tab notes when each message body first shows (the browser's clock, epoch ms). */
    public void noteArrivals() {
        js("""
                window.arrivals = {};
                new MutationObserver(() => {
                  for (const m of document.querySelectorAll('#messages .message[data-seq]')) {
                    window.arrivals[m.querySelector('.body').textContent] ??= Date.now();
                  }
                }).observe(document.getElementById('messages'), { childList: true });
                """);
    }

    /** When the body first showed (epoch ms), or -1 if it has not. */
    public long arrivedAt(String body) {
        return ((Number) js("return window.arrivals[arguments[0]] ?? -1", body)).longValue();
    }

    public void awaitBodies(List<String> expected) {
        browser.awaitEquals(expected, this::bodies, "the messages shown");
    }

    public List<String> bodies() {
        return messages().stream().map(Shown::body).toList();
    }

    @SuppressWarnings("unchecked")
    public List<Shown> messages() {
        List<List<Object>> rows = (List<List<Object>>) js("""
                return [...document.querySelectorAll('#messages .message[data-seq]')].map(m => [
                  m.dataset.author, m.querySelector('.body').textContent, m.classList.contains('own'),
                  m.classList.contains('continued'), m.querySelector('time').textContent,
                  m.querySelector('time').getAttribute('datetime')]);
                """);
        return rows.stream().map(row -> new Shown((String) row.get(0), (String) row.get(1), (Boolean) row.get(2),
                (Boolean) row.get(3), (String) row.get(4), (String) row.get(5))).toList();
    }

    /** Types into the message box; Keys.ENTER sends, Keys.chord(SHIFT, ENTER) is a new line. */
    public void type(CharSequence... keys) {
        element("composer-input").sendKeys(keys);
    }

    /** The next post reaches the server but its answer never reaches the page, as when a connection drops. */
    public void loseNextAnswer() {
        js("""
                const send = window.fetch;
                window.fetch = async (...request) => {
                  const response = await send(...request);
                  if (request[1]?.method !== 'POST') return response;
                  window.fetch = send;
                  throw new TypeError('the answer was lost');
                };
                """);
    }

    /** The next post is answered with this error instead of the server's answer (and is not sent). */
    public void answerNextPostWith(int status, String error, String message) {
        js("""
                const send = window.fetch;
                window.fetch = async (...request) => {
                  if (request[1]?.method !== 'POST') return send(...request);
                  window.fetch = send;
                  return new Response(JSON.stringify({ error: arguments[1], message: arguments[2] }),
                      { status: arguments[0], headers: { 'Content-Type': 'application/json', 'Retry-After': '1' } });
                };
                """, status, error, message);
    }

    /** Whether the last message of the list is wholly in view in the scrolled list. */
    public boolean newestInView() {
        return (Boolean) js("""
                const list = document.getElementById('scroller').getBoundingClientRect();
                const newest = document.querySelector('#messages > li:last-child').getBoundingClientRect();
                return newest.top >= list.top - 1 && newest.bottom <= list.bottom + 1;
                """);
    }

    /** Nothing is being sent: every post has its answer (or its failure). */
    public boolean sent() {
        return (Boolean) js("return document.querySelector('#messages .pending:not([data-pending-seq])') === null");
    }

    public String composerText() {
        return element("composer-input").getDomProperty("value");
    }

    /** What the page says about the last failed send, or "" when it shows nothing. */
    public String sendError() {
        WebElement error = element("composer-error");
        return error.isDisplayed() ? error.getText() : "";
    }

    public String announced() {
        return element("announcer").getDomProperty("textContent");
    }

    public WebElement element(String id) {
        browser.use(tab);
        return browser.driver.findElement(By.id(id));
    }

    Object js(String script, Object... args) {
        browser.use(tab);
        return browser.js(script, args);
    }
}
