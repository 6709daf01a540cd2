package dev.telemetry.gateway.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the SLO file lives and how it is evaluated: read at start (the gateway does not start with an invalid one),
 * polled every {@code watchInterval} for changes (zero: at start and SIGHUP only), evaluated every
 * {@code evaluationInterval}; error budget state kept in {@code stateFile} across restarts (null: not kept);
 * {@code exhaustionAlertWithin}: the predictive alert fires when an SLO's error budget is gone within this time at
 * the current burn rate (zero: no such alert).
 */
public record SlosConfig(Path file, Duration watchInterval, Duration evaluationInterval, Path stateFile,
                         Duration exhaustionAlertWithin) {
  public static final Duration DEFAULT_WATCH_INTERVAL = Duration.ofSeconds(10);
  public static final Duration DEFAULT_EVALUATION_INTERVAL = Duration.ofSeconds(15);

  static SlosConfig read(ConfigNode n) {
    n.allowOnly("file", "watch_interval", "evaluation_interval", "state_file", "exhaustion_alert_within");
    String file = n.string("file", null);
    Duration watch = n.duration("watch_interval", DEFAULT_WATCH_INTERVAL, Duration.ZERO);
    Duration every = n.duration("evaluation_interval", DEFAULT_EVALUATION_INTERVAL, Duration.ofSeconds(1));
    String state = n.has("state_file") ? n.string("state_file", null) : null;
    Duration exhaustion = n.duration("exhaustion_alert_within", Duration.ZERO, Duration.ZERO);
    return file == null ? null : n.build(null, () -> new SlosConfig(Path.of(file), watch, every,
        state == null ? null : Path.of(state), exhaustion));
  }
}
