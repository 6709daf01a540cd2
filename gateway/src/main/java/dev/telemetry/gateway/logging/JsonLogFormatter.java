package dev.telemetry.gateway.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line: {@code time}, {@code level}, {@code logger}, {@code thread}, {@code message} and, for
 * failures, {@code error}. Line-delimited JSON is what log shippers (Fluent Bit, Vector, the Collector's filelog
 * receiver) parse without configuration.
 */
public final class JsonLogFormatter extends Formatter {

  @Override
  public String format(LogRecord r) {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"time\":\"").append(Instant.ofEpochMilli(r.getMillis())).append('"');
    b.append(",\"level\":\"").append(Logging.levelName(r.getLevel())).append('"');
    b.append(",\"logger\":");
    quote(b, r.getLoggerName());
    b.append(",\"thread\":");
    quote(b, Thread.currentThread().getName());
    b.append(",\"message\":");
    quote(b, formatMessage(r));
    if (r.getThrown() != null) {
      StringWriter sw = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(sw));
      b.append(",\"error\":");
      quote(b, sw.toString());
    }
    return b.append("}\n").toString();
  }

  static void quote(StringBuilder b, String s) {
    if (s == null) {
      b.append("null");
      return;
    }
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
