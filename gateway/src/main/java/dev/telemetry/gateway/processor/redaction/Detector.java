package dev.telemetry.gateway.processor.redaction;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import java.util.function.Predicate;

/**
 * Finds one kind of sensitive value inside a string: a cheap pre-check (so most values are skipped without running a
 * regex), an RE2/J pattern (linear time: no catastrophic backtracking, whatever the input or a user's pattern) and
 * an optional validator that rejects look-alikes (a 16-digit order number that fails the Luhn check is no card).
 */
final class Detector {
  private final String name;
  private final Predicate<String> mightMatch;
  private final Pattern pattern;
  private final Predicate<String> valid;
  /** When set, finds what {@code pattern} would, without the regex engine (see {@link Finders}). */
  private final Finders.Finder finder;

  Detector(String name, Predicate<String> mightMatch, Pattern pattern, Predicate<String> valid) {
    this(name, mightMatch, pattern, valid, null);
  }

  Detector(String name, Predicate<String> mightMatch, Pattern pattern, Predicate<String> valid,
           Finders.Finder finder) {
    this.name = name;
    this.mightMatch = mightMatch;
    this.pattern = pattern;
    this.valid = valid;
    this.finder = finder;
  }

  String name() {
    return name;
  }

  /** The cheap pre-check alone: false means {@link #scan} cannot find anything in {@code s}. */
  boolean mightMatch(String s) {
    return !s.isEmpty() && mightMatch.test(s);
  }

  /** Calls {@code onMatch(start, end)} for each valid, non-overlapping match; returns whether any was found. */
  boolean scan(String s, MatchSink onMatch) {
    if (s.isEmpty() || !mightMatch.test(s)) {
      return false;
    }
    if (finder != null) {
      boolean found = false;
      // As Matcher.find(): each search resumes where the last match ended, valid or not.
      for (long m = finder.find(s, 0); m != Finders.NONE; m = finder.find(s, Finders.end(m))) {
        int start = Finders.start(m);
        int end = Finders.end(m);
        if (valid == null || valid.test(s.substring(start, end))) {
          onMatch.accept(start, end);
          found = true;
        }
      }
      return found;
    }
    Matcher m = pattern.matcher(s);
    boolean found = false;
    while (m.find()) {
      if (valid == null || valid.test(m.group())) {
        onMatch.accept(m.start(), m.end());
        found = true;
      }
    }
    return found;
  }

  /** Receives match positions. */
  interface MatchSink {
    void accept(int start, int end);
  }
}
