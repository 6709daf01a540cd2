package dev.telemetry.gateway.config;

/** The gateway's own log output: level and format (one JSON object per line, or plain text for humans). */
public record LoggingConfig(Level level, Format format) {
  public static final LoggingConfig DEFAULTS = new LoggingConfig(Level.INFO, Format.JSON);

  /** Log levels, most verbose first. */
  public enum Level { DEBUG, INFO, WARN, ERROR }

  /** Output formats. */
  public enum Format { JSON, TEXT }
}
