package dev.telemetry.gateway.processor.redaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The hand-written finders give exactly the matches RE2/J's find() gives for the patterns they replace, on random
 * strings made of the characters those patterns care about (and a few they do not), and through the detectors (with
 * the card's Luhn check, and the pre-checks, which must never skip a string with a match) as the redaction uses them.
 */
class FindersTest {
  static final String[] PIECES = {"a", "b", "Z", "x", "co", "com", "0", "1", "4", "9", "4111", "1111", " ", " ", "-",
      ".", ".", "_", "%", "+", "@", "@", "é", "\n", "|", ":", "user", "example", "4111 1111 1111 1111",
      "4111-1111-1111-1111", "4111111111111111", "jane@example.com", "a.b@c.d.ef", "..", "9999999999999999999999"};

  static String random(Random r) {
    StringBuilder b = new StringBuilder();
    int pieces = r.nextInt(14);
    for (int i = 0; i < pieces; i++) {
      b.append(PIECES[r.nextInt(PIECES.length)]);
    }
    return b.toString();
  }

  static List<String> regex(Pattern p, String s) {
    List<String> out = new ArrayList<>();
    Matcher m = p.matcher(s);
    while (m.find()) {
      out.add(m.start() + "-" + m.end());
    }
    return out;
  }

  static List<String> finder(Finders.Finder f, String s) {
    List<String> out = new ArrayList<>();
    for (long m = f.find(s, 0); m != Finders.NONE; m = f.find(s, Finders.end(m))) {
      out.add(Finders.start(m) + "-" + Finders.end(m));
    }
    return out;
  }

  static List<String> scan(Detector d, String s) {
    List<String> out = new ArrayList<>();
    d.scan(s, (start, end) -> out.add(start + "-" + end));
    return out;
  }

  /** Random strings: the finder's matches are the pattern's, and enough of them match to mean something. */
  static void assertSameMatches(Pattern pattern, Finders.Finder finder, long seed) {
    Random r = new Random(seed);
    int matched = 0;
    for (int i = 0; i < 200_000; i++) {
      String s = random(r);
      List<String> expected = regex(pattern, s);
      assertThat(finder(finder, s)).as("%s", s).isEqualTo(expected);
      matched += expected.isEmpty() ? 0 : 1;
    }
    assertThat(matched).as("strings with a match").isGreaterThan(10_000);
  }

  @Test
  void emailFinderMatchesThePattern() {
    assertSameMatches(Detectors.EMAIL, Finders::email, 7);
  }

  @Test
  void cardFinderMatchesThePattern() {
    assertSameMatches(Detectors.CARD, Finders::card, 11);
  }

  @Test
  void detectorsFindWhatTheirPatternsFind() {
    Detector email = new Detector("email", s -> true, Detectors.EMAIL, null);
    Detector card = new Detector("card", s -> true, Detectors.CARD, Detectors::luhn);
    Random r = new Random(13);
    for (int i = 0; i < 100_000; i++) {
      String s = random(r);
      assertThat(scan(Detectors.BUILT_IN.get("email"), s)).as("%s", s).isEqualTo(scan(email, s));
      assertThat(scan(Detectors.BUILT_IN.get("credit_card"), s)).as("%s", s).isEqualTo(scan(card, s));
    }
  }

  @Test
  void knownCases() {
    assertThat(finder(Finders::email, "a@b..com x.y@mail.example.co-uk z@q.c1")).containsExactly("9-28");
    assertThat(regex(Detectors.EMAIL, "a@b..com x.y@mail.example.co-uk z@q.c1")).containsExactly("9-28");
    // The e-mail pre-check once skipped strings whose first character is '@', whatever followed.
    assertThat(scan(Detectors.BUILT_IN.get("email"), "@team: mail bob@example.com")).containsExactly("12-27");
    String cards = "4111 1111 1111 1111 and 12345678901234567890123 and x4111111111111111 1234-5678-9012-3456";
    assertThat(finder(Finders::card, cards)).isEqualTo(regex(Detectors.CARD, cards));
  }
}
