package dev.telemetry.gateway.processor.redaction;

import com.google.re2j.Pattern;
import java.math.BigInteger;
import java.util.Map;
import java.util.TreeMap;

/** The built-in detectors, by the name rules use in config. */
final class Detectors {
  private Detectors() {
  }

  /** The e-mail and card patterns; {@link Finders} finds the same matches without running them. */
  static final Pattern EMAIL = Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}");
  static final Pattern CARD = Pattern.compile("\\b\\d(?:[ -]?\\d){12,18}\\b");

  static final Map<String, Detector> BUILT_IN = builtIn();

  private static Map<String, Detector> builtIn() {
    Map<String, Detector> m = new TreeMap<>();
    // An '@' after the first character: "@team: mail bob@example.com" has a match too.
    add(m, new Detector("email", s -> s.indexOf('@', 1) > 0, EMAIL, null, Finders::email));
    add(m, new Detector("credit_card", s -> longestDigitRun(s) >= 13, CARD, Detectors::luhn, Finders::card));
    add(m, new Detector("iban", s -> digits(s) >= 4 && hasUpperPair(s),
        Pattern.compile("\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\\b"), Detectors::iban));
    add(m, new Detector("us_ssn", s -> s.indexOf('-') > 0 && digits(s) >= 9,
        Pattern.compile("\\b\\d{3}-\\d{2}-\\d{4}\\b"), Detectors::ssn));
    add(m, new Detector("ipv4", s -> digitDotDigit(s) >= 3,
        Pattern.compile("\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b"), Detectors::ipv4));
    add(m, new Detector("ipv6", s -> s.indexOf(':') >= 0 && s.indexOf(':') != s.lastIndexOf(':'),
        Pattern.compile("(?i)(?:[0-9a-f]{0,4}:){2,7}(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9a-f]{0,4})"), Detectors::ipv6));
    add(m, new Detector("jwt", s -> s.contains("eyJ"),
        Pattern.compile("\\beyJ[A-Za-z0-9_-]+\\.eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*"), null));
    add(m, new Detector("bearer_token", s -> s.regionMatches(true, 0, "bearer", 0, 6) || containsIgnoreCase(s, "bearer"),
        Pattern.compile("(?i)\\bbearer\\s+[A-Za-z0-9._~+/-]+=*"), null));
    add(m, new Detector("api_key", s -> s.length() >= 20 && (s.contains("AKIA") || s.contains("gh")
        || s.contains("xox") || s.contains("k_live_") || s.contains("k_test_") || s.contains("AIza")
        || s.contains("glpat-")),
        Pattern.compile("\\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abprs]-[A-Za-z0-9-]{10,}"
            + "|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})"), null));
    add(m, new Detector("phone", s -> digits(s) >= 8,
        Pattern.compile("(?:\\+[1-9]\\d{0,2}[ .-]?)?\\(?\\b\\d{3}\\)?[ .-]\\d{3}[ .-]\\d{4}\\b|\\+[1-9]\\d{7,14}\\b"),
        null));
    return Map.copyOf(m);
  }

  private static void add(Map<String, Detector> m, Detector d) {
    m.put(d.name(), d);
  }

  static int digits(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        n++;
      }
    }
    return n;
  }

  /** The longest run of digits in which single spaces or dashes may separate groups (card numbers). */
  static int longestDigitRun(String s) {
    int best = 0;
    int run = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        run++;
        best = Math.max(best, run);
      } else if (!((c == ' ' || c == '-') && run > 0 && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
        run = 0;
      }
    }
    return best;
  }

  /** How many times a '.' sits between two digits (an IPv4 address needs three). */
  static int digitDotDigit(String s) {
    int n = 0;
    for (int i = 1; i + 1 < s.length(); i++) {
      if (s.charAt(i) == '.' && Character.isDigit(s.charAt(i - 1)) && Character.isDigit(s.charAt(i + 1))) {
        n++;
      }
    }
    return n;
  }

  private static boolean hasUpperPair(String s) {
    for (int i = 0; i + 1 < s.length(); i++) {
      if (Character.isUpperCase(s.charAt(i)) && Character.isUpperCase(s.charAt(i + 1))) {
        return true;
      }
    }
    return false;
  }

  private static boolean containsIgnoreCase(String s, String needle) {
    for (int i = 0; i + needle.length() <= s.length(); i++) {
      if (s.regionMatches(true, i, needle, 0, needle.length())) {
        return true;
      }
    }
    return false;
  }

  /** The Luhn checksum over the digits (separators ignored), 13–19 digits. */
  static boolean luhn(String candidate) {
    int sum = 0;
    int count = 0;
    boolean doubleIt = false;
    for (int i = candidate.length() - 1; i >= 0; i--) {
      char c = candidate.charAt(i);
      if (c < '0' || c > '9') {
        continue;
      }
      int d = c - '0';
      if (doubleIt) {
        d *= 2;
        if (d > 9) {
          d -= 9;
        }
      }
      sum += d;
      doubleIt = !doubleIt;
      count++;
    }
    return count >= 13 && count <= 19 && sum % 10 == 0;
  }

  /** ISO 13616: move the first four characters to the end, letters to numbers, mod 97 must be 1. */
  static boolean iban(String candidate) {
    String s = candidate.replace(" ", "");
    if (s.length() < 15 || s.length() > 34) {
      return false;
    }
    String rearranged = s.substring(4) + s.substring(0, 4);
    StringBuilder digits = new StringBuilder();
    for (char c : rearranged.toCharArray()) {
      if (c >= '0' && c <= '9') {
        digits.append(c);
      } else if (c >= 'A' && c <= 'Z') {
        digits.append(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return new BigInteger(digits.toString()).mod(BigInteger.valueOf(97)).intValue() == 1;
  }

  /** US SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000. */
  static boolean ssn(String s) {
    int area = Integer.parseInt(s.substring(0, 3));
    int group = Integer.parseInt(s.substring(4, 6));
    int serial = Integer.parseInt(s.substring(7));
    return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
  }

  static boolean ipv4(String s) {
    String[] parts = s.split("\\.");
    if (parts.length != 4) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || Integer.parseInt(p) > 255 || (p.length() > 1 && p.charAt(0) == '0')) {
        return false;
      }
    }
    return true;
  }

  /** A literal IPv6 address (with at most one "::", optionally ending in dotted IPv4); parsed, never resolved. */
  static boolean ipv6(String s) {
    String addr = s;
    int groupsForV4 = 0;
    int lastColon = addr.lastIndexOf(':');
    if (addr.indexOf('.') > lastColon && lastColon >= 0) {
      if (!ipv4(addr.substring(lastColon + 1))) {
        return false;
      }
      addr = addr.substring(0, lastColon + 1) + "0";
      groupsForV4 = 1;
    }
    int dc = addr.indexOf("::");
    if (dc >= 0 && addr.indexOf("::", dc + 1) >= 0) {
      return false;
    }
    String[] head = dc >= 0 ? split(addr.substring(0, dc)) : split(addr);
    String[] tail = dc >= 0 ? split(addr.substring(dc + 2)) : new String[0];
    int groups = head.length + tail.length + groupsForV4;
    for (String[] part : new String[][] {head, tail}) {
      for (String g : part) {
        if (g.isEmpty() || g.length() > 4 || !g.matches("[0-9A-Fa-f]+")) {
          return false;
        }
      }
    }
    return dc >= 0 ? groups <= 7 && groups >= 1 : groups == 8;
  }

  private static String[] split(String s) {
    return s.isEmpty() ? new String[0] : s.split(":", -1);
  }
}
