package dev.telemetry.gateway.logging;

import dev.telemetry.gateway.config.LoggingConfig;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Sets up java.util.logging, which Vert.x and Netty also log through when no other backend is on the class path,
 * so the gateway's and its libraries' lines come out in one format on stderr.
 */
public final class Logging {
  private Logging() {
  }

  public static void configure(LoggingConfig config) {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    Handler handler = new ConsoleHandler();
    handler.setFormatter(config.format() == LoggingConfig.Format.JSON ? new JsonLogFormatter() : new TextFormatter());
    Level level = switch (config.level()) {
      case DEBUG -> Level.FINE;
      case INFO -> Level.INFO;
      case WARN -> Level.WARNING;
      case ERROR -> Level.SEVERE;
    };
    handler.setLevel(level);
    root.setLevel(level);
    root.addHandler(handler);
    // Netty is chatty at FINE; keep it at INFO unless something is wrong.
    Logger.getLogger("io.netty").setLevel(level.intValue() < Level.INFO.intValue() ? Level.INFO : level);
    // Vert.x registers its server gauges once per verticle instance sharing a port; Micrometer warns about the
    // (harmless) duplicates once at startup.
    Logger.getLogger("io.micrometer.core.instrument.MeterRegistry").setLevel(Level.SEVERE);
  }

  static String levelName(Level l) {
    int v = l.intValue();
    if (v >= Level.SEVERE.intValue()) {
      return "ERROR";
    }
    if (v >= Level.WARNING.intValue()) {
      return "WARN";
    }
    if (v >= Level.INFO.intValue()) {
      return "INFO";
    }
    return "DEBUG";
  }

  /** Plain one-line text for people reading a terminal. */
  private static final class TextFormatter extends Formatter {
    @Override
    public String format(LogRecord r) {
      String line = Instant.ofEpochMilli(r.getMillis()) + " " + levelName(r.getLevel()) + " "
          + r.getLoggerName() + " - " + formatMessage(r) + "\n";
      if (r.getThrown() != null) {
        java.io.StringWriter sw = new java.io.StringWriter();
        r.getThrown().printStackTrace(new java.io.PrintWriter(sw));
        line += sw;
      }
      return line;
    }
  }
}
