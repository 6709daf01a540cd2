package dev.telemetry.gateway.processor.redaction;

/**
 * Two built-in patterns found without a regex engine: the e-mail and card patterns of {@link Detectors}, hand-written
 * with the same semantics as RE2/J's {@code find()} on them (leftmost-first, greedy; {@code FindersTest} holds them to
 * it on random strings). RE2/J's NFA took about a quarter of the logs path's CPU on the records that pass the
 * pre-checks; these are single passes over the string.
 */
final class Finders {
  /** No (further) match. */
  static final long NONE = -1;

  private Finders() {
  }

  /** Finds the next match at or after {@code from}: {@code start << 32 | end}, or {@link #NONE}. */
  interface Finder {
    long find(String s, int from);
  }

  static int start(long match) {
    return (int) (match >>> 32);
  }

  static int end(long match) {
    return (int) match;
  }

  private static long match(int start, int end) {
    return ((long) start << 32) | end;
  }

  private static boolean digit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  /** RE2's \w: ASCII letters, digits and '_' (what \b looks at). */
  private static boolean word(char c) {
    return letter(c) || digit(c) || c == '_';
  }

  private static boolean local(char c) {
    return letter(c) || digit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
  }

  private static boolean label(char c) {
    return letter(c) || digit(c) || c == '-';
  }

  /**
   * {@code [A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}}: a local part cannot hold an '@', so
   * each '@' in turn decides; the match starts where the run of local characters before it starts (not before
   * {@code from}) and ends as {@link #domainEnd} says.
   */
  static long email(String s, int from) {
    for (int at = s.indexOf('@', from); at >= 0; at = s.indexOf('@', at + 1)) {
      int start = at;
      while (start > from && local(s.charAt(start - 1))) {
        start--;
      }
      if (start < at) {
        int end = domainEnd(s, at + 1);
        if (end >= 0) {
          return match(start, end);
        }
      }
    }
    return NONE;
  }

  /**
   * The domain's labels are maximal runs, joined by single dots (an empty label ends them). The greedy star takes as
   * many labels as it can while a later one still begins with two letters for the final {@code \.[A-Za-z]{2,}}: the
   * match ends after the leading letters of the last label that has two or more; -1 if none does.
   */
  private static int domainEnd(String s, int i) {
    int n = s.length();
    int j = i;
    while (j < n && label(s.charAt(j))) {
      j++;
    }
    if (j == i) {
      return -1;
    }
    int end = -1;
    while (j < n && s.charAt(j) == '.') {
      int k = j + 1;
      int letters = k;
      while (letters < n && letter(s.charAt(letters))) {
        letters++;
      }
      int labelEnd = letters;
      while (labelEnd < n && label(s.charAt(labelEnd))) {
        labelEnd++;
      }
      if (labelEnd == k) {
        break;
      }
      if (letters - k >= 2) {
        end = letters;
      }
      j = labelEnd;
    }
    return end;
  }

  /**
   * {@code \b\d(?:[ -]?\d){12,18}\b}: from each digit at a word boundary, the chain of up to 18 further digits, each
   * optionally after one space or dash, is fixed (the optional separator is taken only before a digit); the match is
   * the longest chain of 12 or more whose end is a word boundary.
   */
  static long card(String s, int from) {
    int n = s.length();
    for (int p = from; p < n; p++) {
      if (!digit(s.charAt(p)) || (p > 0 && word(s.charAt(p - 1)))) {
        continue;
      }
      int i = p + 1;
      int end = -1;
      for (int groups = 1; groups <= 18; groups++) {
        if (i + 1 < n && (s.charAt(i) == ' ' || s.charAt(i) == '-') && digit(s.charAt(i + 1))) {
          i += 2;
        } else if (i < n && digit(s.charAt(i))) {
          i++;
        } else {
          break;
        }
        if (groups >= 12 && (i == n || !word(s.charAt(i)))) {
          end = i;
        }
      }
      if (end >= 0) {
        return match(p, end);
      }
    }
    return NONE;
  }
}
