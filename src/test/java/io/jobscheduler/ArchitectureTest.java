package io.jobscheduler;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The layout docs/architecture.md states, checked on what the compiled production classes
 * depend on (fully qualified uses and inlined constants included, not only import lines).
 */
class ArchitectureTest {
    private static final JavaClasses PRODUCTION = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.jobscheduler");

    @Test
    void theSchedulerUsesNoWorkerCode() {
        sideUsesNothingOf("io.jobscheduler.scheduler..", "io.jobscheduler.worker..");
    }

    @Test
    void theWorkerUsesNoSchedulerCode() {
        sideUsesNothingOf("io.jobscheduler.worker..", "io.jobscheduler.scheduler..");
    }

    private static void sideUsesNothingOf(String side, String other) {
        noClasses().that().resideInAPackage(side)
                .should().dependOnClassesThat().resideInAPackage(other)
                .because("the two sides share only the protobuf contract and the common packages")
                .check(PRODUCTION);
    }

    @Test
    void theJobDomainKnowsNoFrameworkAndNoWireFormat() {
        noClasses().that().resideInAPackage("io.jobscheduler.worker.job..")
                .should().dependOnClassesThat().resideInAnyPackage("io.helidon..", "io.grpc..",
                        "com.google.protobuf..", "io.jobscheduler.grpc..")
                .because("worker.job is the job domain; the gRPC edge (JobProtos, GrpcErrors) translates")
                .check(PRODUCTION);
    }
}
