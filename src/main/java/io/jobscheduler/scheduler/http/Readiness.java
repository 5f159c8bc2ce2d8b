package io.jobscheduler.scheduler.http;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.jobscheduler.scheduler.WorkerRecord;
import io.jobscheduler.scheduler.WorkerRegistry;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The scheduler's readiness, as Helidon's health feature serves it on
 * {@code /observe/health/ready}: a list of start-up milestones (the sockets are up; in
 * {@code dev}, its worker has registered). A milestone once reached stays reached, so a check
 * costs a volatile read per milestone after start-up ({@code /observe/health} runs it too, and
 * the benchmark uses that route as its floor).
 */
public final class Readiness implements HealthCheck {
    private final List<Milestone> milestones = new CopyOnWriteArrayList<>();

    private static final class Milestone {
        final String name;
        final BooleanSupplier reached;
        volatile boolean done;

        Milestone(String name, BooleanSupplier reached) {
            this.name = name;
            this.reached = reached;
        }

        boolean check() {
            if (!done && reached.getAsBoolean()) {
                done = true;
            }
            return done;
        }
    }

    /** Adds a milestone; {@code name} completes "waiting for ...". */
    public void require(String name, BooleanSupplier reached) {
        milestones.add(new Milestone(name, reached));
    }

    /**
     * Adds the milestone {@code dev} waits for: a worker has registered. The answer is the
     * listener the scheduler's registry must be given, which reaches it.
     */
    public WorkerRegistry.Listener requireAWorker(String name) {
        AtomicBoolean joined = new AtomicBoolean();
        require(name, joined::get);
        return new WorkerRegistry.Listener() {
            @Override
            public void added(WorkerRecord worker) {
                joined.set(true);
            }
        };
    }

    /** The first milestone not reached yet, if any. */
    public Optional<String> waitingFor() {
        for (Milestone milestone : milestones) {
            if (!milestone.check()) {
                return Optional.of(milestone.name);
            }
        }
        return Optional.empty();
    }

    @Override
    public HealthCheckType type() {
        return HealthCheckType.READINESS;
    }

    @Override
    public String name() {
        return "scheduler";
    }

    @Override
    public HealthCheckResponse call() {
        Optional<String> waiting = waitingFor();
        HealthCheckResponse.Builder response = HealthCheckResponse.builder()
                .status(waiting.isEmpty() ? HealthCheckResponse.Status.UP : HealthCheckResponse.Status.DOWN);
        waiting.ifPresent(name -> response.detail("waiting_for", name));
        return response.build();
    }
}
