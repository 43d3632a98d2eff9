package io.linkbase.gateway;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** the gateway's packages import each other without cycles (docs/decisions.md "Packages"). */
@AnalyzeClasses(packages = "io.linkbase.gateway", importOptions = ImportOption.DoNotIncludeTests.class)
class PackagesTest {
    @ArchTest
    static final ArchRule NO_CYCLES = slices().matching("io.linkbase.gateway.(*)..").should().beFreeOfCycles();
}
