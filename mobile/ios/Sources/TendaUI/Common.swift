import SwiftUI
import TendaCore

/// The seller's words for a refusal, by the core's stable code.
func failureText(_ f: PosFailure) -> String {
    switch f {
    case .offline(_, let why): return "Sem internet: \(why)"
    case .forbidden: return "Precisa da aprovação de um gerente"
    case .wrongCredentials(let left): return "PIN incorreto. Restam \(left) tentativas"
    case .lockedOut: return "Bloqueado por excesso de tentativas"
    case .invalidInput(let field, let reason): return "Valor inválido (\(field)): \(reason)"
    case .rejected(let code, let reason): return "Recusado (\(code)): \(reason)"
    case .limitExceeded(let limit): return "Limite excedido: \(limit)"
    case .contingencyRequired: return "SEFAZ fora do ar: um gerente precisa autorizar a contingência"
    case .notFound(let what): return "Não encontrado: \(what)"
    case .invalidState(_, let reason): return reason
    case .insufficientStock(let p): return "Sem estoque de \(p)"
    case .peripheral(let device, let reason): return "\(device): \(reason)"
    case .shutDown: return "O caixa foi encerrado; abra o aplicativo de novo"
    case .fiscal, .keystore, .storage, .host, .internalError: return "Erro no aparelho (\(f.code)). Nada foi perdido; chame o suporte."
    }
}

func countdownText(_ left: TimeInterval) -> String {
    if left <= 0 { return "atrasada" }
    let s = Int(left)
    return s >= 3600 ? String(format: "%dh %02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm %02ds", s / 60, s % 60)
}

struct PinPad: View {
    let pinLength: Int
    let enabled: Bool
    let onDigit: (Character) -> Void
    let onBackspace: () -> Void

    var body: some View {
        VStack(spacing: 8) {
            Text(String(repeating: "●", count: pinLength)).font(.title).frame(minHeight: 32)
            ForEach(["123", "456", "789", "⌫0"], id: \.self) { row in
                HStack(spacing: 8) {
                    ForEach(Array(row), id: \.self) { key in
                        Button(String(key)) { key == "⌫" ? onBackspace() : onDigit(key) }
                            .buttonStyle(.bordered).disabled(!enabled)
                    }
                }
            }
        }
    }
}

struct FailureBanner: View {
    let failure: PosFailure?
    let onDismiss: () -> Void
    var body: some View {
        if let f = failure {
            HStack { Text(failureText(f)).foregroundColor(.red); Spacer(); Button("OK", action: onDismiss) }.padding(8)
        }
    }
}

/// A manager approves on the seller's device: their own login and PIN, checked by the core.
struct ManagerApprovalView: View {
    let dialog: ApprovalDialog
    let onLogin: (String) -> Void
    let onDigit: (Character) -> Void
    let onBackspace: () -> Void
    let onConfirm: () -> Void
    let onDismiss: () -> Void

    var body: some View {
        VStack(spacing: 12) {
            Text("Aprovação do gerente").font(.title3)
            Text("Para \(what) é preciso a permissão \(dialog.permission).")
            TextField("Gerente", text: Binding(get: { dialog.login }, set: onLogin))
                .textFieldStyle(.roundedBorder).textInputAutocapitalization(.never)
            PinPad(pinLength: dialog.pinLength, enabled: !dialog.checking, onDigit: onDigit, onBackspace: onBackspace)
            if let f = dialog.failure { Text(failureText(f)).foregroundColor(.red) }
            HStack {
                Button("Voltar", action: onDismiss)
                Button("Aprovar", action: onConfirm).buttonStyle(.borderedProminent).disabled(!dialog.canConfirm)
            }
        }
        .padding(24)
    }

    private var what: String {
        switch dialog.action {
        case .voidLine(let line): return "cancelar o item \(line + 1)"
        case .lineDiscount(let line, _): return "dar desconto no item \(line + 1)"
        case .saleDiscount: return "dar desconto na venda"
        case .openRegister(let float): return "abrir o caixa com \(float.formatted)"
        }
    }
}
