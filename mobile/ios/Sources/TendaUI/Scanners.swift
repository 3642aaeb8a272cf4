import AVFoundation
import SwiftUI
import UIKit

/// The back camera reading EAN-13/EAN-8/Code 128 with AVFoundation; a code seen in consecutive
/// frames is reported once.
struct CameraScannerView: UIViewControllerRepresentable {
    let onCode: (String) -> Void

    func makeUIViewController(context: Context) -> CameraScannerController { CameraScannerController(onCode: onCode) }
    func updateUIViewController(_ controller: CameraScannerController, context: Context) {}
}

final class CameraScannerController: UIViewController, AVCaptureMetadataOutputObjectsDelegate {
    private let session = AVCaptureSession()
    private let onCode: (String) -> Void
    private var last: String?

    init(onCode: @escaping (String) -> Void) { self.onCode = onCode; super.init(nibName: nil, bundle: nil) }
    required init?(coder: NSCoder) { nil }

    override func viewDidLoad() {
        super.viewDidLoad()
        guard let camera = AVCaptureDevice.default(for: .video), let input = try? AVCaptureDeviceInput(device: camera),
              session.canAddInput(input) else { return }
        session.addInput(input)
        let output = AVCaptureMetadataOutput()
        guard session.canAddOutput(output) else { return }
        session.addOutput(output)
        output.setMetadataObjectsDelegate(self, queue: .main)
        output.metadataObjectTypes = [.ean13, .ean8, .code128, .upce]
        let preview = AVCaptureVideoPreviewLayer(session: session)
        preview.videoGravity = .resizeAspectFill
        preview.frame = view.bounds
        view.layer.addSublayer(preview)
        DispatchQueue.global(qos: .userInitiated).async { [session] in session.startRunning() }
    }

    override func viewWillDisappear(_ animated: Bool) { super.viewWillDisappear(animated); session.stopRunning() }

    func metadataOutput(_ output: AVCaptureMetadataOutput, didOutput objects: [AVMetadataObject], from connection: AVCaptureConnection) {
        let code = (objects.first as? AVMetadataMachineReadableCodeObject)?.stringValue
        if let code, code != last { onCode(code) }
        last = code
    }
}

/// A Bluetooth barcode scanner pairs as a keyboard: this invisible responder receives its keys
/// (digits, then Return) and hands each one to the counter.
struct KeyboardScannerView: UIViewRepresentable {
    let onKey: (Character) -> Void

    func makeUIView(context: Context) -> KeyCatcher { let v = KeyCatcher(); v.onKey = onKey; return v }
    func updateUIView(_ view: KeyCatcher, context: Context) { view.onKey = onKey; DispatchQueue.main.async { view.becomeFirstResponder() } }

    final class KeyCatcher: UIView {
        var onKey: (Character) -> Void = { _ in }
        override var canBecomeFirstResponder: Bool { true }
        override func pressesBegan(_ presses: Set<UIPress>, with event: UIPressesEvent?) {
            var handled = false
            for press in presses {
                guard let key = press.key else { continue }
                if key.keyCode == .keyboardReturnOrEnter { onKey("\n"); handled = true }
                else if let c = key.characters.first { onKey(c); handled = true }
            }
            if !handled { super.pressesBegan(presses, with: event) }
        }
    }
}
