package io.pgchat;

import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

import java.util.List;

/** The chat page as a person meets it: what the screen shows, and the keyboard. */
final class ChatPage {

    /** A stored message as shown: pending ones (still being sent) are not included. */
    record Shown(String author, String body, boolean own, boolean continued, String time, String sentAt) {
    }

    final Browser browser;

    private ChatPage(Browser browser) {
        this.browser = browser;
    }

    static ChatPage open(Browser browser, TestServer server, String room) {
        browser.open(server.uri("/#/" + room));
        return new ChatPage(browser);
    }

    /** Answers the welcome dialog as a first-time visitor does: types a name and presses Enter. */
    ChatPage joinAs(String name) {
        browser.await("the welcome dialog opens", () -> element("name-dialog").isDisplayed());
        browser.driver.switchTo().activeElement().sendKeys(name, Keys.ENTER);
        browser.await("the welcome dialog closes", () -> !element("name-dialog").isDisplayed());
        return this;
    }

    ChatPage awaitLive() {
        browser.awaitEquals("live", this::state, "the connection state");
        return this;
    }

    String state() {
        return element("connection").getAttribute("data-state");
    }

    void awaitBodies(List<String> expected) {
        browser.awaitEquals(expected, this::bodies, "the messages shown");
    }

    List<String> bodies() {
        return messages().stream().map(Shown::body).toList();
    }

    @SuppressWarnings("unchecked")
    List<Shown> messages() {
        List<List<Object>> rows = (List<List<Object>>) browser.js("""
                return [...document.querySelectorAll('#messages .message[data-seq]')].map(m => [
                  m.dataset.author, m.querySelector('.body').textContent, m.classList.contains('own'),
                  m.classList.contains('continued'), m.querySelector('time').textContent,
                  m.querySelector('time').getAttribute('datetime')]);
                """);
        return rows.stream().map(row -> new Shown((String) row.get(0), (String) row.get(1), (Boolean) row.get(2),
                (Boolean) row.get(3), (String) row.get(4), (String) row.get(5))).toList();
    }

    /** Types into the message box; Keys.ENTER sends, Keys.chord(SHIFT, ENTER) is a new line. */
    void type(CharSequence... keys) {
        element("composer-input").sendKeys(keys);
    }

    String composerText() {
        return element("composer-input").getDomProperty("value");
    }

    /** What the page says about the last failed send, or "" when it shows nothing. */
    String sendError() {
        WebElement error = element("composer-error");
        return error.isDisplayed() ? error.getText() : "";
    }

    String announced() {
        return element("announcer").getDomProperty("textContent");
    }

    WebElement element(String id) {
        return browser.driver.findElement(By.id(id));
    }
}
