package dev.telemetry.gateway.config;

import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${env:NAME}} and {@code ${env:NAME:-default}} inside config string values. A referenced variable
 * that is unset and has no default is an error, not an empty string: silent blanks make for confusing endpoints.
 * {@code $${env:X}} escapes to the literal text {@code ${env:X}}.
 */
final class EnvSubstitution {
  private static final Pattern REF = Pattern.compile("\\$?\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

  /** No substitution at all: for documents that are written back as they were read (routing tables). */
  static final EnvSubstitution NONE = new EnvSubstitution(null);

  private final Function<String, String> env;

  EnvSubstitution(Function<String, String> env) {
    this.env = env;
  }

  /** Returns the substituted value; unresolved names are reported as {@code path: ...} into {@code errors}. */
  String apply(String value, String path, ConfigErrors errors) {
    if (env == null || value.indexOf("${") < 0) {
      return value;
    }
    Matcher m = REF.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String whole = m.group();
      String replacement;
      if (whole.startsWith("$$")) {
        replacement = whole.substring(1);
      } else {
        String v = env.apply(m.group(1));
        if (v == null) {
          v = m.group(3);
        }
        if (v == null) {
          errors.add(path, "environment variable " + m.group(1) + " is not set (set it, or give a default: ${env:"
              + m.group(1) + ":-value})");
          v = "";
        }
        replacement = v;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }
}
