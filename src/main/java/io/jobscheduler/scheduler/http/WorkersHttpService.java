package io.jobscheduler.scheduler.http;

import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.jobscheduler.scheduler.WorkerLiveness;
import io.jobscheduler.scheduler.WorkerRecord;
import io.jobscheduler.scheduler.WorkerRegistry;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;

/** {@code /workers}: the registered workers, as the registry knows them. */
public final class WorkersHttpService implements HttpService {
    private final WorkerRegistry registry;
    private final WorkerLiveness liveness;

    public WorkersHttpService(WorkerRegistry registry, WorkerLiveness liveness) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.liveness = Objects.requireNonNull(liveness, "liveness");
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::list)
                .any("/", SchedulerHttp.methodNotAllowed(Method.GET))
                .get("/{id}", this::one)
                .any("/{id}", SchedulerHttp.methodNotAllowed(Method.GET));
    }

    private void list(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        List<WorkerBody> workers = registry.list().stream().map(this::body).toList();
        JsonBody.send(response, Status.OK_200, new WorkersBody(workers));
    }

    private void one(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        String text = request.path().pathParameters().get("id");
        UUID id = WorkerRegistry.parseId(text)
                .orElseThrow(() -> ApiException.badRequest("worker id '" + text + "' is not a UUID"));
        WorkerRecord worker = registry.find(id)
                .orElseThrow(() -> ApiException.notFound("worker '" + id + "' is not registered"));
        JsonBody.send(response, Status.OK_200, body(worker));
    }

    private WorkerBody body(WorkerRecord worker) {
        var health = liveness.health(worker.id());
        return new WorkerBody(worker.id().toString(), worker.address().toString(),
                JsonBody.time(worker.registeredAt()),
                health.map(h -> h.state().name().toLowerCase(Locale.ROOT)).orElse("down"),
                health.map(h -> JsonBody.time(h.lastSeen())).orElse(null),
                health.map(WorkerLiveness.Health::runningJobs).orElse(0));
    }

    /** One worker as the API shows it: {@code state} is {@code alive} or {@code down}. */
    public record WorkerBody(String id, String address, String registeredAt, String state, String lastSeen,
                             int runningJobs) {
    }

    /** {@code GET /workers}. */
    public record WorkersBody(List<WorkerBody> workers) {
    }
}
