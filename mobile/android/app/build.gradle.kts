// The seller's app: Compose screens over the core module's presenters, the Android Keystore key
// vault, Bluetooth LE links to the receipt printer and the card reader, and the Rust library
// (libtenda_ffi.so) cross-compiled by cargo-ndk for the two ABIs Brazilian POS terminals use.
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "app.tenda.mobile.app"
    compileSdk = 35
    ndkVersion = "27.2.12479018"

    defaultConfig {
        applicationId = "app.tenda.mobile"
        minSdk = 26 // java.time, BLE MTU requests, Keystore AES-GCM
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a") }
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    buildFeatures { compose = true }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // cargo-ndk writes the .so files here (see buildRustLibrary below).
    sourceSets["main"].jniLibs.srcDir(layout.buildDirectory.dir("rustJniLibs"))
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation(project(":core")) {
        // On Android JNA comes as an AAR with its own native dispatch library.
        exclude(group = "net.java.dev.jna", module = "jna")
    }
    implementation("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    implementation(libs.kotlinx.coroutines.android)
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.material3)
    implementation(libs.compose.ui.tooling.preview)
    implementation(libs.activity.compose)
    implementation(libs.lifecycle.viewmodel.compose)
    implementation(libs.lifecycle.runtime.compose)
    implementation(libs.camerax.camera2)
    implementation(libs.camerax.lifecycle)
    implementation(libs.camerax.view)
    implementation(libs.camerax.mlkit)
    implementation(libs.mlkit.barcode)
    androidTestImplementation(platform(libs.compose.bom))
    androidTestImplementation(libs.compose.ui.test.junit4)
    androidTestImplementation(testFixtures(project(":core")))
}

// Cross-compiles tenda-ffi with cargo-ndk (`cargo install cargo-ndk`; rustup targets
// aarch64-linux-android and armv7-linux-androideabi; ANDROID_NDK_HOME set). SQLCipher's OpenSSL
// is vendored for Android (feature bundled-sqlcipher-vendored-openssl, chosen by the target).
val buildRustLibrary by tasks.registering(Exec::class) {
    val repositoryRoot = rootProject.file("../..")
    workingDir = repositoryRoot
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a",
        "--platform", "26",
        "-o", layout.buildDirectory.dir("rustJniLibs").get().asFile.absolutePath,
        "build", "--release", "-p", "tenda-ffi",
    )
}
tasks.named("preBuild") { dependsOn(buildRustLibrary) }
