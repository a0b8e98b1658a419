// How old ItemAdded payloads become the current shape on read. Each step knows
// only the shape one version older than its own.
import EventSourcing

/// ItemAdded as first written: the price in currency units, as a Double.
struct ItemAddedV1: Codable, Sendable {
    var sku: String
    var quantity: Int
    var price: Double
}

/// ItemAdded version 2: the price in cents, no currency yet (it was always euros).
struct ItemAddedV2: Codable, Sendable {
    var sku: String
    var quantity: Int
    var unitPriceCents: Int
}

enum OrderUpcasters {
    static let itemAddedV1ToV2 = Upcaster.converting("ItemAdded", fromSchemaVersion: 1, ItemAddedV1.self, to: ItemAddedV2.self) { old in
        ItemAddedV2(sku: old.sku, quantity: old.quantity, unitPriceCents: Int((old.price * 100).rounded()))
    }

    static let itemAddedV2ToV3 = Upcaster.converting("ItemAdded", fromSchemaVersion: 2, ItemAddedV2.self, to: ItemAdded.self) { old in
        ItemAdded(sku: old.sku, quantity: old.quantity, unitPriceCents: old.unitPriceCents, currency: "EUR")
    }

    static let all = [itemAddedV1ToV2, itemAddedV2ToV3]
}
