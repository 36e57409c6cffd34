"""`licita demo [--if-empty] [--seed N]`: build a realistic Spanish-language demo data set through the services.

Everything is created by the same service functions the API calls (institutions, units, users,
memberships, suppliers, procedures, bids, openings, fallos, contracts, payments), walking a simulated
clock through the last months so that each procedure reaches its stage the way a real one would.
The only direct writes are to Django's own user fields that no service covers: the demo password
hash (hashed once and shared, so that the run stays fast) and the superuser flags of `admin`.

Demo only: the custodians' private keys are written to VAR_DIR/demo/custodian-keys.json (mode 0600)
so that a demo user can claim and open the opening-key shares of procedures still awaiting opening.
"""

from __future__ import annotations

import base64
import datetime as dt
import heapq
import itertools
import json
import os
import random
import unicodedata
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from licita.accounts import services as accounts
from licita.accounts.models import CompanySize, Institution, PurchasingUnit, Role, Supplier, User
from licita.accounts.rfc import rfc_generate
from licita.bidding import crypto
from licita.bidding import services as bidding
from licita.core import clock
from licita.core.errors import LicitaError
from licita.ledger.services import checkpoint_tick
from licita.procurement import services as proc
from licita.procurement.models import (
    Award,
    AwardStatus,
    Character,
    Clarification,
    Contract,
    ContractAmendment,
    ContractType,
    EvaluationMethod,
    Form,
    Law,
    LegalBasis,
    Milestone,
    Payment,
    Procedure,
    ProcedureType,
    Status,
    TenderAmendment,
)

DEFAULT_PASSWORD = "licita-demo-2026"  # noqa: S105 - a published local-demo password, printed at the end
PASSWORD_ENV = "LICITA_DEMO_PASSWORD"  # noqa: S105 - the name of the variable, not a password
MX = ZoneInfo("America/Mexico_City")
CENT = Decimal("0.01")
KEYS_FILENAME = "custodian-keys.json"

LP, IN, AD = ProcedureType.PUBLIC_TENDER, ProcedureType.INVITATION, ProcedureType.DIRECT_AWARD
ADQ, ARR, SER = ContractType.ACQUISITIONS, ContractType.LEASES, ContractType.SERVICES
OBRA, SOBRA = ContractType.PUBLIC_WORKS, ContractType.WORKS_SERVICES


# --- Catalogue: institutions and purchasing units -----------------------------------------------------------------
#
# Names, SIGLAS and CLAVEUC keys follow the CompraNet samples in /work/shared/data/compranet. The key starts with
# the institution's ramo (3 digits). IMSS and ISSSTE appear in CompraNet under 019GYR… and 019GYN…; here they
# carry their own budget ramos (50 and 51), so their keys keep the real GYR/GYN suffix under 050/051.


@dataclass(frozen=True)
class InstitutionData:
    name: str
    siglas: str
    ramo: str
    units: tuple[tuple[str, str], ...]


INSTITUTIONS: tuple[InstitutionData, ...] = (
    InstitutionData(
        "Instituto Mexicano del Seguro Social",
        "IMSS",
        "50",
        (
            ("050GYR008", "Oficina de Adquisición de Bienes y Contratación de Servicios, Delegación Quintana Roo"),
            ("050GYR019", "Coordinación Técnica de Adquisición de Bienes de Inversión y Activos"),
            ("050GYR983", "Coordinación de Conservación y Servicios Generales"),
        ),
    ),
    InstitutionData(
        "Instituto de Seguridad y Servicios Sociales de los Trabajadores del Estado",
        "ISSSTE",
        "51",
        (
            ("051GYN013", "Jefatura de Servicios de Adquisición de Material de Curación"),
            ("051GYN009", "Departamento de Obras y Servicios Generales, Delegación Regional Norte"),
        ),
    ),
    InstitutionData(
        "Secretaría de Infraestructura, Comunicaciones y Transportes",
        "SICT",
        "09",
        (
            ("009000999", "Dirección General de Carreteras"),
            ("009000964", "Centro SICT Jalisco"),
            ("009000985", "Centro SICT Guerrero"),
        ),
    ),
    InstitutionData(
        "Secretaría de Educación Pública",
        "SEP",
        "11",
        (
            ("011000999", "Dirección General de Recursos Materiales y Servicios"),
            ("011C00999", "Autoridad Educativa Federal en la Ciudad de México, Dirección de Recursos Materiales"),
        ),
    ),
    InstitutionData(
        "Secretaría de Marina", "SEMAR", "13", (("013000999", "Dirección General Adjunta de Adquisiciones"),)
    ),
    InstitutionData(
        "Secretaría de Salud",
        "SSA",
        "12",
        (("012000990", "Dirección General de Recursos Materiales y Servicios Generales"),),
    ),
    InstitutionData(
        "Aeropuertos y Servicios Auxiliares",
        "ASA",
        "09",
        (
            ("009JZL001", "Gerencia de Licitaciones 2"),
            ("009JZL982", "Aeropuerto Internacional de Puebla"),
        ),
    ),
    InstitutionData("Comisión Nacional del Agua", "CONAGUA", "16", (("016B00026", "Dirección de Administración"),)),
)


# --- Catalogue: suppliers --------------------------------------------------------------------------------------------
#
# Invented names in the style of CompraNet's PROVEEDOR_CONTRATISTA column (checked against the SFP sanctions
# samples: none matches), grouped by the market they bid in. Personas físicas are (given names, surname 1, surname 2).

COMPANIES: dict[str, tuple[str, ...]] = {
    "medico": (
        "DISTRIBUIDORA MÉDICA DEL BAJÍO, S.A. DE C.V.",
        "INSUMOS HOSPITALARIOS DE OCCIDENTE, S.A. DE C.V.",
        "GRUPO FARMACÉUTICO PENINSULAR, S.A. DE C.V.",
        "COMERCIALIZADORA DE MATERIAL DE CURACIÓN DEL SURESTE, S.A. DE C.V.",
        "EQUIPOS BIOMÉDICOS INTEGRALES, S.A. DE C.V.",
        "LABORATORIOS CLÍNICOS Y REACTIVOS DEL NORTE, S.A. DE C.V.",
        "SUMINISTROS QUIRÚRGICOS ANÁHUAC, S. DE R.L. DE C.V.",
        "MEDIKAL PROVEEDORA INSTITUCIONAL, S.A. DE C.V.",
    ),
    "obra": (
        "CONSTRUCTORA Y URBANIZADORA DEL PACÍFICO, S.A. DE C.V.",
        "PAVIMENTOS Y TERRACERÍAS DE JALISCO, S.A. DE C.V.",
        "INGENIERÍA CIVIL Y ESTRUCTURAS TOVAR, S.A. DE C.V.",
        "GRUPO CONSTRUCTOR HUASTECO, S.A. DE C.V.",
        "CONSTRUCCIONES Y PROYECTOS DEL GOLFO, S.A. DE C.V.",
        "EDIFICACIONES Y MANTENIMIENTO INTEGRAL GAMA, S.A. DE C.V.",
        "OBRAS MARÍTIMAS Y PORTUARIAS DEL SUR, S.A. DE C.V.",
        "CARRETERAS Y PUENTES DE GUERRERO, S.A. DE C.V.",
    ),
    "supervision": (
        "SUPERVISIÓN Y CONTROL DE CALIDAD GEOTÉCNICA, S.C.",
        "LABORATORIO DE MECÁNICA DE SUELOS Y MATERIALES, S.C.",
        "PROYECTOS EJECUTIVOS E INGENIERÍA APLICADA, S.C.",
        "GEOTECNIA Y TOPOGRAFÍA DEL SUR, S.C.",
    ),
    "limpieza": (
        "SERVICIOS INTEGRALES DE LIMPIEZA ECOLIMP, S.A. DE C.V.",
        "LIMPIEZA PROFESIONAL Y MANTENIMIENTO DEL CENTRO, S.A. DE C.V.",
        "HIGIENE INSTITUCIONAL MEXICANA, S.A. DE C.V.",
        "FUMIGACIONES Y CONTROL DE PLAGAS DEL VALLE, S.A. DE C.V.",
    ),
    "vigilancia": (
        "SEGURIDAD PRIVADA INTEGRAL ÁGUILA, S.A. DE C.V.",
        "CORPORATIVO DE PROTECCIÓN Y VIGILANCIA DEL NORTE, S.A. DE C.V.",
        "SERVICIOS DE INVESTIGACIÓN Y CUSTODIA PRIVADA, S.A. DE C.V.",
    ),
    "ti": (
        "SOLUCIONES TECNOLÓGICAS Y REDES DE MÉXICO, S.A. DE C.V.",
        "SISTEMAS DE CÓMPUTO Y TELECOMUNICACIONES AZTECA, S.A. DE C.V.",
        "CENTRO DE DATOS Y CONECTIVIDAD NACIONAL, S.A.P.I. DE C.V.",
        "INFORMÁTICA EMPRESARIAL DEL CENTRO, S.A. DE C.V.",
        "ARRENDADORA DE EQUIPO DE CÓMPUTO MEXICANA, S.A. DE C.V.",
        "DESARROLLO DE SOFTWARE Y CONSULTORÍA DIGITAL, S.C.",
    ),
    "oficina": (
        "COMERCIAL PAPELERA DEL NORTE, S.A. DE C.V.",
        "TÓNER Y CONSUMIBLES DE OFICINA, S.A. DE C.V.",
        "MUEBLES Y EQUIPOS DE OFICINA TLALPAN, S.A. DE C.V.",
        "DISTRIBUIDORA DE ARTÍCULOS ESCOLARES LA PERLA, S.A. DE C.V.",
    ),
    "alimentos": (
        "ABARROTES Y VÍVERES INSTITUCIONALES, S.A. DE C.V.",
        "COMEDORES INDUSTRIALES Y SERVICIOS DE ALIMENTACIÓN, S.A. DE C.V.",
        "PRODUCTOS CÁRNICOS Y PERECEDEROS DEL GOLFO, S.A. DE C.V.",
    ),
    "vehiculos": (
        "ARRENDAMIENTO VEHICULAR Y FLOTILLAS, S.A. DE C.V.",
        "REFACCIONES Y SERVICIOS AUTOMOTRICES DEL BAJÍO, S.A. DE C.V.",
        "EQUIPOS CONTRA INCENDIO Y RESCATE DE MÉXICO, S.A. DE C.V.",
        "AUTOMOTRIZ Y FLOTILLAS DEL CENTRO, S.A. DE C.V.",
        "MOTORES MARINOS Y REFACCIONES NÁUTICAS, S.A. DE C.V.",
    ),
    "uniformes": (
        "UNIFORMES Y VESTUARIO INDUSTRIAL, S.A. DE C.V.",
        "CONFECCIONES Y TEXTILES INSTITUCIONALES, S.A. DE C.V.",
        "CALZADO Y VESTUARIO DE SEGURIDAD, S.A. DE C.V.",
    ),
    "mantenimiento": (
        "CLIMATIZACIÓN Y SISTEMAS ELECTROMECÁNICOS, S.A. DE C.V.",
        "ELEVADORES Y EQUIPOS ELECTROMECÁNICOS DEL CENTRO, S.A. DE C.V.",
        "SUBESTACIONES Y MANTENIMIENTO ELÉCTRICO INDUSTRIAL, S.A. DE C.V.",
    ),
    "consultoria": (
        "CONSULTORES EN GESTIÓN PÚBLICA Y CAPACITACIÓN, S.C.",
        "INSTITUTO DE CAPACITACIÓN Y DESARROLLO ORGANIZACIONAL, S.C.",
    ),
}

PERSONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "consultoria": (("MARÍA GUADALUPE", "HERNÁNDEZ", "LÓPEZ"), ("LAURA ELENA", "SÁNCHEZ", "DOMÍNGUEZ")),
    "mantenimiento": (("JOSÉ LUIS", "RAMÍREZ", "CASTILLO"),),
    "oficina": (("ANA PATRICIA", "MORALES", "VEGA"),),
    "obra": (("FRANCISCO JAVIER", "ORTIZ", "MENDOZA"),),
}

SIZES = (
    CompanySize.MICRO,
    CompanySize.SMALL,
    CompanySize.SMALL,
    CompanySize.MEDIUM,
    CompanySize.MEDIUM,
    CompanySize.LARGE,
)
GIVEN_NAMES = (
    "Alejandra",
    "Carlos",
    "Verónica",
    "Jorge",
    "Mónica",
    "Ricardo",
    "Gabriela",
    "Eduardo",
    "Claudia",
    "Fernando",
    "Adriana",
    "Miguel Ángel",
    "Patricia",
    "Roberto",
    "Silvia",
    "Héctor",
    "Lucía",
    "Arturo",
    "Rosa María",
    "Sergio",
)
SURNAMES = (
    "García",
    "Martínez",
    "López",
    "González",
    "Rodríguez",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Flores",
    "Cruz",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Castillo",
    "Romero",
    "Herrera",
    "Medina",
    "Chávez",
    "Ríos",
    "Salazar",
    "Navarro",
)

# --- Catalogue: procedures --------------------------------------------------------------------------------------


def _item(cucop: str, description: str, quantity: int | str, unit: str) -> proc.ItemInput:
    return proc.ItemInput(cucop=cucop, description=description, quantity=Decimal(quantity), unit=unit)


def _lot(title: str, value: str, *items: proc.ItemInput) -> proc.LotInput:
    return proc.LotInput(title=title, estimated_value=Decimal(value), items=list(items))


@dataclass(frozen=True)
class Spec:
    """One demo procedure: what it buys and the stage it must reach."""

    unit: str
    kind: str
    law: str
    contract_type: str
    title: str
    lots: tuple[proc.LotInput, ...]
    stage: str
    sector: str
    description: str = ""
    basis: str = LegalBasis.TENDER
    fraction: str = ""
    justification: str = ""
    character: str = Character.NATIONAL
    form: str = Form.ELECTRONIC
    method: str = EvaluationMethod.BINARY
    questions: int = 0
    amend: bool = False
    reduced: str = ""
    cancel_from: str = ""
    cancel_reason: str = ""
    desert_lots: tuple[int, ...] = ()
    convenio: bool = False
    bidders: int = 4
    replace_bid: bool = False
    withdraw_bid: bool = False
    person: bool = False
    followup: Spec | None = None


JUST_PATENT = (
    "Los bienes están amparados por una patente vigente y el proveedor es el distribuidor exclusivo en México, según "
    "la investigación de mercado y la carta de exclusividad del fabricante; no existen bienes alternativos o "
    "sustitutos técnicamente razonables."
)
JUST_LICENSES = (
    "El proveedor es el único titular del licenciamiento exclusivo de los derechos de autor del software en uso en "
    "la Secretaría; la migración a otra plataforma implicaría costos adicionales no justificados, según el dictamen "
    "técnico del área requirente."
)
JUST_EMERGENCY = (
    "Se requiere atender de inmediato a la población afectada por las lluvias severas en la costa de Guerrero; la "
    "declaratoria de emergencia y el riesgo a la salubridad de la zona impiden realizar una licitación pública en el "
    "tiempo requerido (caso fortuito o fuerza mayor)."
)
JUST_DESERTED = (
    "Se declaró desierta la licitación pública {ref} al no presentarse proposiciones solventes; se mantienen los "
    "requisitos de la convocatoria cuyo incumplimiento fue causa de desechamiento y la investigación de mercado "
    "actualizada acredita las mejores condiciones para el Estado."
)
REDUCED = (
    "Se reduce el plazo a 11 días naturales por autorización del titular del área contratante: el servicio debe "
    "iniciar antes del periodo de lluvias para evitar interrupciones en el suministro eléctrico de las instalaciones."
)
CANCEL_BUDGET = (
    "Se cancela el procedimiento por la reducción presupuestal comunicada por la Unidad de Administración y Finanzas, "
    "que extingue la necesidad de adquirir los bienes en el presente ejercicio fiscal."
)
CANCEL_SPECS = (
    "Se cancela por caso fortuito: el área requirente modificó sustancialmente las especificaciones técnicas de los "
    "vehículos, por lo que continuar con el procedimiento podría ocasionar un daño o perjuicio a la convocante."
)
CANCEL_CONSOLIDATED = (
    "Existen circunstancias justificadas que extinguen la necesidad de la contratación: los equipos serán provistos "
    "mediante la compra consolidada de la institución."
)
CANCEL_FRAMEWORK = (
    "El área requirente desistió de la contratación al haberse atendido la necesidad mediante un contrato marco "
    "vigente."
)

SPECS: tuple[Spec, ...] = (
    # --- Licitaciones públicas -------------------------------------------------------------------------------------
    Spec(
        "050GYR008",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE MATERIAL DE CURACIÓN PARA UNIDADES MÉDICAS DE LA DELEGACIÓN QUINTANA ROO",
        (
            _lot(
                "Gasas y apósitos",
                "1850000.00",
                _item("25401001", "Gasa seca corte 10 x 10 cm, 12 capas, estéril", 120000, "paquete"),
                _item("25401005", "Apósito transparente adhesivo 10 x 12 cm", 30000, "pieza"),
            ),
            _lot("Vendas", "960000.00", _item("25401002", "Venda elástica de algodón 10 cm x 5 m", 80000, "pieza")),
            _lot(
                "Jeringas y agujas",
                "1420000.00",
                _item("25401003", "Jeringa desechable de 5 ml con aguja 21G x 32 mm", 400000, "pieza"),
            ),
        ),
        Status.COMPLETED,
        "medico",
        description="Abastecimiento de material de curación para el segundo semestre.",
        questions=2,
        replace_bid=True,
    ),
    Spec(
        "050GYR019",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE EQUIPO MÉDICO: TOMÓGRAFOS Y UNIDADES DE ULTRASONIDO PARA HOSPITALES DE SEGUNDO NIVEL",
        (
            _lot(
                "Tomógrafo computado de 64 cortes",
                "28500000.00",
                _item("53101001", "Tomógrafo computado multicorte de 64 cortes con estación de trabajo", 3, "equipo"),
            ),
            _lot(
                "Ultrasonido de alta gama",
                "9600000.00",
                _item("53101002", "Unidad de ultrasonido Doppler color con 4 transductores", 12, "equipo"),
            ),
        ),
        Status.CONTRACTED,
        "medico",
        character=Character.INTERNATIONAL_TREATIES,
        method=EvaluationMethod.POINTS,
        description="Equipamiento de hospitales generales de zona; evaluación por puntos y porcentajes.",
        questions=1,
    ),
    Spec(
        "050GYR983",
        LP,
        Law.LAASSP,
        SER,
        "SERVICIO DE LIMPIEZA INTEGRAL A INMUEBLES DEL IMSS EN LA ZONA METROPOLITANA",
        (
            _lot(
                "Limpieza integral",
                "12480000.00",
                _item(
                    "35801001",
                    "Servicio de limpieza integral en inmuebles administrativos y unidades médicas",
                    12,
                    "mes",
                ),
            ),
        ),
        Status.CONTRACTED,
        "limpieza",
        convenio=True,
        form=Form.MIXED,
    ),
    Spec(
        "050GYR008",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE MEDICAMENTOS DEL COMPENDIO NACIONAL DE INSUMOS PARA EL PRIMER NIVEL DE ATENCIÓN",
        (
            _lot(
                "Analgésicos y antiinflamatorios",
                "2340000.00",
                _item("25301001", "Paracetamol tabletas 500 mg, caja con 10", 250000, "caja"),
            ),
            _lot(
                "Antibióticos",
                "3120000.00",
                _item("25301002", "Amoxicilina cápsulas 500 mg, caja con 12", 180000, "caja"),
            ),
        ),
        Status.PUBLISHED,
        "medico",
        questions=2,
        amend=True,
    ),
    Spec(
        "051GYN013",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE MATERIAL DE CURACIÓN: SUTURAS QUIRÚRGICAS Y APÓSITOS ESPECIALIZADOS",
        (
            _lot(
                "Suturas quirúrgicas",
                "3860000.00",
                _item("25401004", "Sutura sintética absorbible calibre 2-0 con aguja ahusada", 60000, "sobre"),
            ),
        ),
        Status.DESERTED,
        "medico",
        desert_lots=(1,),
        bidders=3,
        followup=Spec(
            "051GYN013",
            AD,
            Law.LAASSP,
            ADQ,
            "ADQUISICIÓN DE SUTURAS QUIRÚRGICAS (ADJUDICACIÓN POR LICITACIÓN DESIERTA)",
            (
                _lot(
                    "Suturas quirúrgicas",
                    "3790000.00",
                    _item("25401004", "Sutura sintética absorbible calibre 2-0 con aguja ahusada", 60000, "sobre"),
                ),
            ),
            Status.CONTRACTED,
            "medico",
            basis=LegalBasis.EXCEPTION,
            fraction="VII",
            justification=JUST_DESERTED,
        ),
    ),
    Spec(
        "051GYN009",
        LP,
        Law.LOPSRM,
        OBRA,
        "MANTENIMIENTO PREVENTIVO Y CORRECTIVO A LA CLÍNICA HOSPITAL DEL ISSSTE EN MONTERREY, N.L.",
        (
            _lot(
                "Obra civil e instalaciones",
                "9640000.00",
                _item("62202001", "Mantenimiento de instalaciones hidrosanitarias, eléctricas y acabados", 1, "obra"),
            ),
        ),
        Status.COMPLETED,
        "obra",
        convenio=True,
        form=Form.MIXED,
        questions=1,
    ),
    Spec(
        "009000999",
        LP,
        Law.LOPSRM,
        OBRA,
        "CONSERVACIÓN PERIÓDICA DEL TRAMO CARRETERO MÉXICO-CUERNAVACA DEL KM 28+000 AL KM 52+000",
        (
            _lot(
                "Conservación periódica",
                "42750000.00",
                _item("62501001", "Fresado, renivelación y carpeta asfáltica de 5 cm", 24, "km"),
            ),
        ),
        Status.CONTRACTED,
        "obra",
        convenio=True,
        questions=2,
    ),
    Spec(
        "009000964",
        LP,
        Law.LOPSRM,
        OBRA,
        "RECONSTRUCCIÓN DEL PUENTE EL SALTO EN LA CARRETERA GUADALAJARA-COLIMA KM 45+300",
        (
            _lot(
                "Reconstrucción de puente",
                "18300000.00",
                _item("62501002", "Reconstrucción de superestructura y subestructura de puente vehicular", 1, "obra"),
            ),
        ),
        Status.AWARDED,
        "obra",
    ),
    Spec(
        "009000985",
        LP,
        Law.LOPSRM,
        SOBRA,
        "SUPERVISIÓN EXTERNA DE LOS TRABAJOS DE CONSERVACIÓN RUTINARIA EN LA RED FEDERAL DEL ESTADO DE GUERRERO",
        (
            _lot(
                "Supervisión externa",
                "4150000.00",
                _item("62903001", "Supervisión técnica, control de calidad y administrativa de obra", 10, "mes"),
            ),
        ),
        Status.OPENED,
        "supervision",
        bidders=3,
    ),
    Spec(
        "009000999",
        LP,
        Law.LOPSRM,
        OBRA,
        "MODERNIZACIÓN A CUATRO CARRILES DE LA CARRETERA FEDERAL 200, TRAMO PINOTEPA NACIONAL-LÍMITE DE ESTADOS",
        (
            _lot(
                "Modernización",
                "186500000.00",
                _item(
                    "62501003",
                    "Ampliación a cuatro carriles incluye terracerías, obras de drenaje y pavimento",
                    12,
                    "km",
                ),
            ),
        ),
        Status.PUBLISHED,
        "obra",
        character=Character.INTERNATIONAL_OPEN,
        questions=3,
    ),
    Spec(
        "011000999",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE MOBILIARIO ESCOLAR PARA PLANTELES DE EDUCACIÓN BÁSICA",
        (
            _lot(
                "Pupitres",
                "7200000.00",
                _item("51101001", "Pupitre unipersonal con paleta de polipropileno", 12000, "pieza"),
            ),
            _lot(
                "Pizarrones",
                "1450000.00",
                _item("51101002", "Pizarrón blanco de acero porcelanizado 1.20 x 2.40 m", 2500, "pieza"),
            ),
        ),
        Status.EVALUATED,
        "oficina",
    ),
    Spec(
        "011C00999",
        LP,
        Law.LAASSP,
        SER,
        "CONTRATACIÓN DEL SERVICIO DE INTERNET DEDICADO Y ENLACES DE DATOS PARA ESCUELAS DE LA CIUDAD DE MÉXICO",
        (
            _lot(
                "Internet dedicado",
                "6259500.00",
                _item("31701001", "Enlace de internet dedicado simétrico de 200 Mbps", 24, "mes"),
            ),
        ),
        Status.CLOSED,
        "ti",
        questions=1,
    ),
    Spec(
        "011000999",
        LP,
        Law.LAASSP,
        SER,
        "SERVICIO DE SEGURIDAD Y VIGILANCIA INTRAMUROS PARA INMUEBLES DE LA SECRETARÍA",
        (
            _lot(
                "Vigilancia",
                "5870000.00",
                _item("33801001", "Servicio de vigilancia intramuros 24 horas, turnos de 12 x 12", 6, "mes"),
            ),
        ),
        Status.COMPLETED,
        "vigilancia",
        questions=1,
        withdraw_bid=True,
        bidders=3,
    ),
    Spec(
        "013000999",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE VÍVERES PARA LA ALIMENTACIÓN DEL PERSONAL NAVAL",
        (
            _lot(
                "Abarrotes",
                "6900000.00",
                _item("22104001", "Abarrotes no perecederos (arroz, frijol, aceite, azúcar)", 1, "lote"),
            ),
            _lot("Cárnicos", "8400000.00", _item("22104002", "Carne de res y pollo congelados", 90000, "kilogramo")),
            _lot("Frutas y verduras", "3100000.00", _item("22104003", "Frutas y verduras de temporada", 1, "lote")),
        ),
        Status.CONTRACTED,
        "alimentos",
        desert_lots=(3,),
        bidders=3,
        form=Form.MIXED,
    ),
    Spec(
        "013000999",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE VESTUARIO, UNIFORMES Y CALZADO PARA PERSONAL NAVAL",
        (
            _lot(
                "Uniformes",
                "9750000.00",
                _item("27101001", "Uniforme de faena de algodón, color azul marino", 25000, "juego"),
            ),
        ),
        Status.CANCELLED,
        "uniformes",
        cancel_from=Status.PUBLISHED,
        cancel_reason=CANCEL_BUDGET,
        bidders=3,
    ),
    Spec(
        "012000990",
        LP,
        Law.LAASSP,
        ARR,
        "ARRENDAMIENTO DE EQUIPO DE CÓMPUTO PERSONAL Y PERIFÉRICOS",
        (
            _lot(
                "Equipo de cómputo",
                "14380000.00",
                _item(
                    "32301001", "Arrendamiento de computadora de escritorio con monitor de 24 pulgadas", 1800, "equipo"
                ),
            ),
        ),
        Status.AWARDED,
        "ti",
    ),
    Spec(
        "012000990",
        LP,
        Law.LAASSP,
        SER,
        "SERVICIO DE MANTENIMIENTO PREVENTIVO Y CORRECTIVO A EQUIPO MÉDICO DE ALTA ESPECIALIDAD",
        (
            _lot(
                "Mantenimiento a equipo médico",
                "3980000.00",
                _item("35401001", "Mantenimiento preventivo y correctivo a equipo de imagenología", 12, "mes"),
            ),
        ),
        Status.PUBLISHED,
        "medico",
    ),
    Spec(
        "009JZL001",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE VEHÍCULOS DE RESCATE Y EXTINCIÓN DE INCENDIOS PARA AEROPUERTOS DE LA RED ASA",
        (
            _lot(
                "Vehículos de rescate",
                "24600000.00",
                _item("54101001", "Vehículo de rescate y extinción de incendios 6x6, 12,000 litros", 3, "pieza"),
            ),
        ),
        Status.CANCELLED,
        "vehiculos",
        cancel_from=Status.OPENED,
        cancel_reason=CANCEL_SPECS,
        bidders=3,
        character=Character.INTERNATIONAL_OPEN,
    ),
    Spec(
        "009JZL982",
        LP,
        Law.LOPSRM,
        OBRA,
        "REHABILITACIÓN DE LA PISTA 17-35 DEL AEROPUERTO INTERNACIONAL DE PUEBLA",
        (
            _lot(
                "Rehabilitación de pista",
                "31200000.00",
                _item("62501004", "Renivelación y carpeta de concreto asfáltico en pista", 3600, "m"),
            ),
        ),
        Status.DESERTED,
        "obra",
        desert_lots=(1,),
        bidders=3,
    ),
    Spec(
        "016B00026",
        LP,
        Law.LOPSRM,
        OBRA,
        "REHABILITACIÓN DE LA PLANTA DE BOMBEO NÚMERO 3 DEL SISTEMA CUTZAMALA",
        (
            _lot(
                "Rehabilitación",
                "27400000.00",
                _item("62301001", "Rehabilitación electromecánica de equipos de bombeo", 1, "obra"),
            ),
        ),
        Status.DRAFT,
        "obra",
    ),
    Spec(
        "016B00026",
        LP,
        Law.LAASSP,
        ARR,
        "ARRENDAMIENTO DE VEHÍCULOS TERRESTRES PARA LAS DIRECCIONES LOCALES",
        (
            _lot(
                "Vehículos",
                "4142880.00",
                _item("32502001", "Arrendamiento de camioneta pick-up doble cabina", 40, "vehículo"),
            ),
        ),
        Status.CLOSED,
        "vehiculos",
        amend=True,
        bidders=3,
    ),
    Spec(
        "009000964",
        LP,
        Law.LAASSP,
        SER,
        "SERVICIO DE MANTENIMIENTO A SUBESTACIÓN ELÉCTRICA, HIDRONEUMÁTICO Y EQUIPOS ELECTROMECÁNICOS",
        (
            _lot(
                "Mantenimiento",
                "1609790.00",
                _item("35701001", "Mantenimiento a subestación eléctrica de 500 kVA y equipos", 1, "servicio"),
            ),
        ),
        Status.COMPLETED,
        "mantenimiento",
        reduced=REDUCED,
        bidders=3,
    ),
    Spec(
        "050GYR983",
        LP,
        Law.LAASSP,
        SER,
        "SERVICIO DE JARDINERÍA, FUMIGACIÓN Y CONTROL DE PLAGAS EN UNIDADES MÉDICAS",
        (
            _lot(
                "Fumigación y jardinería",
                "2760000.00",
                _item("35901001", "Fumigación y control de plagas en unidades médicas", 12, "mes"),
            ),
        ),
        Status.DRAFT,
        "limpieza",
    ),
    Spec(
        "051GYN013",
        LP,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE REACTIVOS Y MATERIAL DE LABORATORIO CLÍNICO",
        (
            _lot(
                "Reactivos",
                "5230000.00",
                _item("25501001", "Reactivos para química clínica, determinación de glucosa", 9000, "prueba"),
            ),
        ),
        Status.OPENED,
        "medico",
        form=Form.MIXED,
    ),
    # --- Invitaciones a cuando menos tres personas -------------------------------------------------------------------
    Spec(
        "050GYR008",
        IN,
        Law.LAASSP,
        SER,
        "MANTENIMIENTO PREVENTIVO Y CORRECTIVO A ELEVADORES DE UNIDADES MÉDICAS",
        (
            _lot(
                "Elevadores",
                "1234205.00",
                _item("35701002", "Mantenimiento a elevadores de pasajeros y montacamillas", 12, "mes"),
            ),
        ),
        Status.COMPLETED,
        "mantenimiento",
        basis=LegalBasis.AMOUNT,
        bidders=3,
    ),
    Spec(
        "051GYN009",
        IN,
        Law.LOPSRM,
        OBRA,
        "MANTENIMIENTO A FACHADAS E IMPERMEABILIZACIÓN DE AZOTEAS DEL HOSPITAL REGIONAL",
        (
            _lot(
                "Fachadas e impermeabilización",
                "3840000.00",
                _item("62202002", "Impermeabilización prefabricada con membrana SBS de 4 mm", 5200, "m2"),
            ),
        ),
        Status.CONTRACTED,
        "obra",
        basis=LegalBasis.AMOUNT,
        convenio=True,
    ),
    Spec(
        "009000985",
        IN,
        Law.LOPSRM,
        SOBRA,
        "LEVANTAMIENTO TOPOGRÁFICO Y PROYECTO EJECUTIVO DEL ENTRONQUE TIXTLA",
        (
            _lot(
                "Proyecto ejecutivo",
                "2539140.00",
                _item("62903002", "Levantamiento topográfico y proyecto ejecutivo de entronque", 1, "estudio"),
            ),
        ),
        Status.COMPLETED,
        "supervision",
        basis=LegalBasis.AMOUNT,
        bidders=3,
    ),
    Spec(
        "011C00999",
        IN,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE TÓNER Y CARTUCHOS PARA LAS ÁREAS ADMINISTRATIVAS",
        (
            _lot(
                "Tóner y cartuchos",
                "1120000.00",
                _item("21401001", "Cartucho de tóner negro de alto rendimiento", 1400, "pieza"),
            ),
        ),
        Status.PUBLISHED,
        "oficina",
        basis=LegalBasis.AMOUNT,
        questions=1,
        bidders=3,
    ),
    Spec(
        "013000999",
        IN,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE REFACCIONES PARA EMBARCACIONES MENORES",
        (
            _lot(
                "Refacciones",
                "2614834.00",
                _item("29801001", "Refacciones para motor fuera de borda de 250 HP", 1, "lote"),
            ),
        ),
        Status.AWARDED,
        "vehiculos",
        basis=LegalBasis.AMOUNT,
        bidders=3,
    ),
    Spec(
        "012000990",
        IN,
        Law.LAASSP,
        SER,
        "SERVICIO DE CAPACITACIÓN EN MATERIA DE CONTRATACIONES PÚBLICAS PARA PERSONAL DE LA SECRETARÍA",
        (
            _lot(
                "Capacitación",
                "1360000.00",
                _item("33401001", "Curso-taller de 40 horas sobre la nueva LAASSP", 12, "grupo"),
            ),
        ),
        Status.DESERTED,
        "consultoria",
        basis=LegalBasis.AMOUNT,
        desert_lots=(1,),
        bidders=3,
    ),
    Spec(
        "009JZL982",
        IN,
        Law.LAASSP,
        SER,
        "SERVICIO DE MANTENIMIENTO PREVENTIVO A LOS EQUIPOS DE AIRE ACONDICIONADO DEL EDIFICIO TERMINAL",
        (
            _lot(
                "Aire acondicionado",
                "873834.00",
                _item("35701003", "Mantenimiento a unidades de aire acondicionado tipo paquete", 1, "servicio"),
            ),
        ),
        Status.CLOSED,
        "mantenimiento",
        basis=LegalBasis.AMOUNT,
        bidders=3,
    ),
    Spec(
        "016B00026",
        IN,
        Law.LOPSRM,
        OBRA,
        "DESAZOLVE Y LIMPIEZA DEL DREN GENERAL DEL VALLE, TRAMO KM 4+000 AL KM 9+500",
        (
            _lot(
                "Desazolve",
                "6348307.00",
                _item("62401001", "Desazolve mecánico con acarreo de material producto", 5500, "m"),
            ),
        ),
        Status.DRAFT,
        "obra",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "050GYR019",
        IN,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE EQUIPO DE CÓMPUTO PARA ÁREAS MÉDICAS",
        (
            _lot(
                "Equipo de cómputo",
                "3450000.00",
                _item("51501001", "Computadora de escritorio todo en uno, 16 GB RAM", 180, "equipo"),
            ),
        ),
        Status.CANCELLED,
        "ti",
        basis=LegalBasis.AMOUNT,
        cancel_from=Status.PUBLISHED,
        cancel_reason=CANCEL_CONSOLIDATED,
    ),
    Spec(
        "011000999",
        IN,
        Law.LAASSP,
        SER,
        "SERVICIO DE FUMIGACIÓN EN OFICINAS CENTRALES Y ALMACENES",
        (
            _lot(
                "Fumigación",
                "694999.00",
                _item("35901002", "Fumigación y desinsectación de oficinas y almacenes", 6, "servicio"),
            ),
        ),
        Status.EVALUATED,
        "limpieza",
        basis=LegalBasis.AMOUNT,
        bidders=3,
    ),
    Spec(
        "009000964",
        IN,
        Law.LOPSRM,
        OBRA,
        "BACHEO Y RENIVELACIÓN EN LA CARRETERA GUADALAJARA-TEPIC, TRAMO KM 12+000 AL KM 30+000",
        (
            _lot(
                "Bacheo",
                "4400253.00",
                _item("62501005", "Bacheo profundo con mezcla asfáltica en caliente", 3800, "m2"),
            ),
        ),
        Status.OPENED,
        "obra",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "009JZL001",
        IN,
        Law.LAASSP,
        SER,
        "SERVICIO DE SEGURIDAD PRIVADA, CONTROL Y VIGILANCIA EN LAS INSTALACIONES DE COMBUSTIBLES",
        (
            _lot(
                "Vigilancia",
                "1353990.00",
                _item("33801002", "Servicio de vigilancia 24 horas en estación de combustibles", 12, "mes"),
            ),
        ),
        Status.CONTRACTED,
        "vigilancia",
        basis=LegalBasis.AMOUNT,
        bidders=3,
    ),
    # --- Adjudicaciones directas -------------------------------------------------------------------------------------
    Spec(
        "050GYR008",
        AD,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE TÓNER Y CONSUMIBLES DE IMPRESIÓN",
        (
            _lot(
                "Tóner",
                "477317.20",
                _item("21401002", "Cartucho de tóner para impresora láser monocromática", 620, "pieza"),
            ),
        ),
        Status.COMPLETED,
        "oficina",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "051GYN013",
        AD,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE MEDICAMENTO ONCOLÓGICO DE PATENTE",
        (
            _lot(
                "Medicamento de patente",
                "8740000.00",
                _item("25301003", "Trastuzumab solución inyectable 440 mg", 950, "frasco ámpula"),
            ),
        ),
        Status.CONTRACTED,
        "medico",
        basis=LegalBasis.EXCEPTION,
        fraction="I",
        justification=JUST_PATENT,
        convenio=True,
    ),
    Spec(
        "009000985",
        AD,
        Law.LOPSRM,
        OBRA,
        "TRABAJOS DE DESAZOLVE DE ALCANTARILLAS Y CUNETAS EN LA CARRETERA CHILPANCINGO-TLAPA",
        (
            _lot(
                "Desazolve",
                "1046636.00",
                _item("62501006", "Desazolve de alcantarillas y limpieza de cunetas", 140, "pieza"),
            ),
        ),
        Status.COMPLETED,
        "obra",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "011C00999",
        AD,
        Law.LAASSP,
        SER,
        "CONTRATACIÓN DEL SERVICIO DE CAPACITACIÓN EN COMPETENCIAS DIDÁCTICAS PARA DOCENTES",
        (
            _lot(
                "Capacitación",
                "328000.00",
                _item("33401002", "Taller de competencias didácticas de 20 horas", 8, "grupo"),
            ),
        ),
        Status.COMPLETED,
        "consultoria",
        basis=LegalBasis.AMOUNT,
        person=True,
    ),
    Spec(
        "013000999",
        AD,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE INSUMOS DE AYUDA HUMANITARIA POR LA EMERGENCIA EN LA COSTA DE GUERRERO",
        (
            _lot(
                "Despensas y agua",
                "5230000.00",
                _item("22104004", "Despensa básica familiar", 20000, "pieza"),
                _item("22104005", "Agua purificada garrafón de 20 litros", 40000, "pieza"),
            ),
        ),
        Status.COMPLETED,
        "alimentos",
        basis=LegalBasis.EXCEPTION,
        fraction="II",
        justification=JUST_EMERGENCY,
    ),
    Spec(
        "012000990",
        AD,
        Law.LAASSP,
        SER,
        "SERVICIO DE MANTENIMIENTO PREVENTIVO A PLANTA DE EMERGENCIA",
        (
            _lot(
                "Planta de emergencia",
                "410000.00",
                _item("35701004", "Mantenimiento preventivo a planta de emergencia de 500 kW", 4, "servicio"),
            ),
        ),
        Status.CONTRACTED,
        "mantenimiento",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "009JZL001",
        AD,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE VESTUARIO, UNIFORMES Y PRENDAS DE PROTECCIÓN PARA PERSONAL OPERATIVO",
        (_lot("Uniformes", "590000.00", _item("27101002", "Overol de algodón retardante a la flama", 900, "pieza")),),
        Status.AWARDED,
        "uniformes",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "016B00026",
        AD,
        Law.LOPSRM,
        SOBRA,
        "ESTUDIO DE MECÁNICA DE SUELOS PARA LA PRESA DE ALMACENAMIENTO EL ZAPOTILLO",
        (
            _lot(
                "Mecánica de suelos",
                "780000.00",
                _item("62903003", "Estudio de mecánica de suelos con sondeos a 30 m", 1, "estudio"),
            ),
        ),
        Status.CONTRACTED,
        "supervision",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "050GYR983",
        AD,
        Law.LAASSP,
        SER,
        "SERVICIO DE FUMIGACIÓN EN ALMACENES DELEGACIONALES",
        (_lot("Fumigación", "260000.00", _item("35901003", "Fumigación de almacenes", 4, "servicio")),),
        Status.DRAFT,
        "limpieza",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "011000999",
        AD,
        Law.LAASSP,
        ARR,
        "LICENCIAMIENTO DE SOFTWARE DE GESTIÓN ESCOLAR",
        (
            _lot(
                "Licencias",
                "6300000.00",
                _item("32701001", "Licencia anual de uso de software de control escolar", 1, "licencia"),
            ),
        ),
        Status.CONTRACTED,
        "ti",
        basis=LegalBasis.EXCEPTION,
        fraction="I",
        justification=JUST_LICENSES,
    ),
    Spec(
        "009000999",
        AD,
        Law.LAASSP,
        ADQ,
        "ADQUISICIÓN DE MATERIAL DE SEÑALAMIENTO VIAL",
        (
            _lot(
                "Señalamiento", "550000.00", _item("24601001", "Señal vertical preventiva de 86 x 86 cm", 700, "pieza")
            ),
        ),
        Status.CANCELLED,
        "obra",
        basis=LegalBasis.AMOUNT,
        cancel_from=Status.DRAFT,
        cancel_reason=CANCEL_FRAMEWORK,
    ),
    Spec(
        "051GYN009",
        AD,
        Law.LAASSP,
        SER,
        "SERVICIO DE MANTENIMIENTO CORRECTIVO A EQUIPO DE RAYOS X",
        (
            _lot(
                "Rayos X",
                "385000.00",
                _item("35401002", "Mantenimiento correctivo a equipo de rayos X convencional", 2, "servicio"),
            ),
        ),
        Status.COMPLETED,
        "medico",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "009JZL982",
        AD,
        Law.LAASSP,
        SER,
        "MANTENIMIENTO PREVENTIVO Y CORRECTIVO A EQUIPOS DE RAYOS X Y ARCOS DETECTORES DE METALES",
        (
            _lot(
                "Equipos de inspección",
                "310000.00",
                _item("35701005", "Mantenimiento a equipos de inspección de equipaje", 6, "servicio"),
            ),
        ),
        Status.COMPLETED,
        "mantenimiento",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "013000999",
        AD,
        Law.LAASSP,
        SER,
        "SERVICIO DE MANTENIMIENTO PREVENTIVO A LOS EQUIPOS DE AIRE ACONDICIONADO",
        (
            _lot(
                "Aire acondicionado",
                "298000.00",
                _item("35701006", "Mantenimiento a equipos de aire acondicionado tipo minisplit", 3, "servicio"),
            ),
        ),
        Status.CONTRACTED,
        "mantenimiento",
        basis=LegalBasis.AMOUNT,
    ),
    Spec(
        "050GYR019",
        AD,
        Law.LAASSP,
        ARR,
        "SERVICIO DE ARRENDAMIENTO DE EQUIPOS MULTIFUNCIONALES",
        (
            _lot(
                "Multifuncionales",
                "530793.00",
                _item("32301002", "Arrendamiento de equipo multifuncional de alto volumen", 24, "equipo"),
            ),
        ),
        Status.COMPLETED,
        "ti",
        basis=LegalBasis.AMOUNT,
    ),
)

# --- Texts for questions, disqualifications and contract execution ---------------------------------------------------

QUESTIONS_GENERAL = (
    (
        "¿Se aceptan propuestas por partida o es obligatorio cotizar todas las partidas?",
        "Se aceptan propuestas por partida; la adjudicación se hará por partida a la proposición solvente más conveniente.",
    ),
    (
        "¿Las cartas de apoyo del fabricante pueden tener fecha anterior a la publicación de la convocatoria?",
        "No. Las cartas de apoyo deberán emitirse a partir de la fecha de publicación de la convocatoria y dirigirse a la convocante.",
    ),
    (
        "¿Es necesario presentar la documentación legal en original o basta con copia simple?",
        "Basta con copia simple; los originales se cotejarán únicamente con el licitante adjudicado antes de la firma del contrato.",
    ),
    (
        "¿Se permite la participación conjunta de dos o más empresas mediante convenio?",
        "Sí, siempre que se presente el convenio de participación conjunta conforme al numeral 3.5 de la convocatoria.",
    ),
)
QUESTIONS_BY_LAW = {
    Law.LAASSP: (
        (
            "¿Cuál es el plazo y el lugar de entrega de los bienes o de inicio del servicio?",
            "El plazo es de 20 días naturales posteriores a la firma del contrato, en los lugares señalados en el Anexo Técnico.",
        ),
        (
            "¿El anexo técnico admite especificaciones equivalentes si se acredita el cumplimiento de la NOM aplicable?",
            "Sí, siempre que se acredite el cumplimiento de la norma oficial mexicana correspondiente con certificado vigente.",
        ),
    ),
    Law.LOPSRM: (
        (
            "¿La visita al sitio de los trabajos es obligatoria?",
            "La visita es optativa; los licitantes deberán considerar en su propuesta las condiciones del sitio de los trabajos.",
        ),
        (
            "¿Se otorgará anticipo para el inicio de los trabajos?",
            "Sí, se otorgará un anticipo del 30% del monto contratado, previa entrega de la garantía correspondiente.",
        ),
    ),
}
DISQUALIFICATIONS = {
    Law.LAASSP: (
        "No presentó el escrito de cumplimiento de las Normas Oficiales Mexicanas requerido en el numeral 4.2 de la convocatoria.",
        "La propuesta técnica no acredita la experiencia mínima de dos años en contratos similares solicitada en el Anexo Técnico.",
        "El precio ofertado rebasa el presupuesto autorizado para la partida (precio no aceptable).",
        "No presentó la carta de respaldo del fabricante solicitada en el numeral 3.1 del Anexo Técnico.",
        "La garantía de los bienes ofrecida es inferior a los 12 meses requeridos en el Anexo Técnico.",
    ),
    Law.LOPSRM: (
        "El programa de ejecución de los trabajos excede el plazo máximo establecido en la convocatoria.",
        "El análisis de precios unitarios no considera los materiales del catálogo de conceptos.",
        "No acreditó la capacidad técnica: el superintendente propuesto no cuenta con la experiencia requerida.",
        "La propuesta económica rebasa el presupuesto base de la obra (precio no aceptable).",
    ),
}
MILESTONES = {
    ADQ: ("Entrega parcial de bienes en almacén", "Entrega total de bienes y acta de recepción"),
    ARR: ("Instalación y puesta en operación de los equipos", "Reporte mensual de disponibilidad"),
    SER: ("Inicio del servicio y entrega del plan de trabajo", "Reporte mensual de servicio"),
    OBRA: (
        "Terminación de trabajos preliminares",
        "Avance físico del 50%",
        "Acta de entrega-recepción de los trabajos",
    ),
    SOBRA: ("Entrega del informe preliminar", "Entrega del informe final"),
}


# --- The builder -------------------------------------------------------------------------------------------------


@dataclass
class Office:
    unit: PurchasingUnit
    operator: User
    admin: User
    auditor: User
    committee: list[int] = field(default_factory=list)


@dataclass
class Party:
    supplier: Supplier
    rep: User


Scenario = Generator[dt.datetime, None, None]


class Builder:
    """Creates the demo data through the services, on a simulated clock."""

    def __init__(self, *, seed: int, real_now: dt.datetime, out: Callable[[str], None]) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.real_now = real_now
        self.today = dt.datetime.combine(timezone.localtime(real_now, MX).date(), dt.time(0), tzinfo=MX)
        self.out = out
        self.users: list[User] = []
        self.keys: dict[str, dict[str, str]] = {}
        self.private: dict[int, bytes] = {}
        self.offices: dict[str, Office] = {}
        self.parties: dict[str, list[Party]] = {}
        self.admin: User
        self.global_auditor: User
        self.first_bidder: dict[int, Party] = {}

    # --- time helpers ---

    def day(self, offset: float, hour: int = 10, minute: int = 0) -> dt.datetime:
        """Return the moment `offset` days from today (Mexico City) at hour:minute, in UTC."""
        base = self.today + dt.timedelta(days=int(offset))
        return base.replace(hour=hour, minute=minute).astimezone(dt.UTC)

    @staticmethod
    def between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        """Return a moment between start and end, to the minute."""
        if end <= start:
            return start
        moment = (start + (end - start) * rng.random()).replace(second=0, microsecond=0)
        return max(moment, start)

    @staticmethod
    def workday(rng: random.Random, base: dt.datetime) -> dt.datetime:
        """Return `base`'s day at a random office hour (Mexico City)."""
        local = base.astimezone(MX)
        return local.replace(
            hour=rng.randint(9, 17), minute=rng.randrange(0, 60, 5), second=0, microsecond=0
        ).astimezone(dt.UTC)

    # --- people ---

    def person_name(self) -> tuple[str, str]:
        given = self.rng.choice(GIVEN_NAMES)
        return given, f"{self.rng.choice(SURNAMES)} {self.rng.choice(SURNAMES)}"

    def user(self, username: str, *, first: str = "", last: str = "", custodian: bool = True) -> User:
        if not first:
            first, last = self.person_name()
        user = accounts.user_create(
            actor=getattr(self, "admin", None),
            username=username,
            password=None,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.example",
        )
        self.users.append(user)
        if custodian:
            private = X25519PrivateKey.generate()
            public = private.public_key().public_bytes_raw()
            bidding.custodian_key_register(actor=user, public_key_b64=base64.b64encode(public).decode())
            self.private[user.pk] = private.private_bytes_raw()
            self.keys[username] = {
                "private_key": base64.b64encode(self.private[user.pk]).decode(),
                "public_key": base64.b64encode(public).decode(),
            }
        return user

    def build_people(self) -> None:
        self.admin = self.user("admin", first="Administración", last="de la Plataforma")
        accounts.membership_grant(actor=None, user=self.admin, role=Role.PLATFORM_ADMIN)
        self.global_auditor = self.user("auditor", first="Auditoría", last="Gubernamental (SABG)")
        accounts.membership_grant(actor=self.admin, user=self.global_auditor, role=Role.AUDITOR)
        units = 0
        for data in INSTITUTIONS:
            institution = accounts.institution_create(
                actor=self.admin, name=data.name, siglas=data.siglas, ramo=data.ramo
            )
            auditor = self.user(f"oic.{data.siglas.lower()}", last=f"(OIC {data.siglas})")
            accounts.membership_grant(actor=self.admin, user=auditor, role=Role.AUDITOR, institution=institution)
            for key, name in data.units:
                first, last = self.person_name()
                unit = accounts.unit_create(
                    actor=self.admin, institution=institution, key=key, name=name, responsible=f"{first} {last}"
                )
                head = self.user(f"{key.lower()}.titular", first=first, last=last)
                accounts.membership_grant(actor=self.admin, user=head, role=Role.BUYER_ADMIN, unit=unit)
                operator = self.user(f"{key.lower()}.operador")
                accounts.membership_grant(actor=head, user=operator, role=Role.BUYER_OPERATOR, unit=unit)
                self.offices[key] = Office(
                    unit=unit,
                    operator=operator,
                    admin=head,
                    auditor=auditor,
                    committee=[head.pk, operator.pk, auditor.pk, self.global_auditor.pk],
                )
                units += 1
        self.out(
            f"  {len(INSTITUTIONS)} institutions, {units} purchasing units, {len(self.users)} officials with custodian keys"
        )

    def build_suppliers(self) -> None:
        used: set[str] = set()
        n = 0
        for sector, names in COMPANIES.items():
            for name in names:
                n += 1
                letters = _company_letters(name)
                date = dt.date(1985, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 33 * 365))
                rfc = self._unique_rfc(used, letters, date, person=False, n=n)
                self._register(sector, rfc, name, self.rng.choice(SIZES))
        for sector, people in PERSONS.items():
            for given, first_surname, second_surname in people:
                n += 1
                letters = _person_letters(given, first_surname, second_surname)
                date = dt.date(1962, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 28 * 365))
                rfc = self._unique_rfc(used, letters, date, person=True, n=n)
                self._register(sector, rfc, f"{given} {first_surname} {second_surname}", CompanySize.MICRO)
        persons = sum(len(v) for v in PERSONS.values())
        self.out(
            f"  {n} suppliers ({n - persons} personas morales, {persons} personas físicas), each with a representative"
        )

    def _unique_rfc(self, used: set[str], letters: str, date: dt.date, *, person: bool, n: int) -> str:
        for attempt in range(100):
            rfc = rfc_generate(name_letters=letters, date=date, person=person, seed=self.seed * 1000 + n * 7 + attempt)
            if rfc not in used:
                used.add(rfc)
                return rfc
        msg = f"could not draw a unique RFC for {letters}"
        raise CommandError(msg)

    def _register(self, sector: str, rfc: str, name: str, size: str) -> None:
        given, surnames = self.person_name()
        rep = self.user(f"rep.{rfc.lower()}", first=given, last=surnames, custodian=False)
        supplier = accounts.supplier_register(
            actor=rep, rfc=rfc, name=name, size=size, email=f"contacto.{rfc.lower()}@demo.example"
        )
        self.parties.setdefault(sector, []).append(Party(supplier=supplier, rep=rep))

    def set_passwords(self, password: str) -> None:
        """Give every demo user the demo password (one hash for all) and make `admin` a Django superuser."""
        hashed = make_password(password)
        User.objects.filter(pk__in=[u.pk for u in self.users]).update(password=hashed)
        User.objects.filter(pk=self.admin.pk).update(is_staff=True, is_superuser=True)

    # --- procedures ---

    def scenarios(self) -> list[tuple[str, Scenario]]:
        result = []
        for index, spec in enumerate(SPECS):
            rng = random.Random(f"{self.seed}:{index}")
            gen = self.direct(spec, rng) if spec.kind == AD else self.competitive(spec, rng)
            result.append((spec.title, gen))
        return result

    def _create(self, spec: Spec, office: Office) -> Procedure:
        return proc.procedure_create(
            actor=office.operator,
            unit_key=spec.unit,
            title=spec.title,
            description=spec.description,
            law=spec.law,
            procedure_type=spec.kind,
            character=spec.character,
            form=spec.form,
            contract_type=spec.contract_type,
            legal_basis=spec.basis,
            exception_fraction=spec.fraction,
            justification=spec.justification,
            evaluation_method=spec.method,
            lots=list(spec.lots),
        )

    def _period(self, spec: Spec, rng: random.Random) -> int:
        if spec.kind == IN:
            return rng.randint(7, 9)
        if spec.reduced:
            return 11
        return {
            Character.NATIONAL: rng.randint(15, 20),
            Character.INTERNATIONAL_OPEN: rng.randint(20, 24),
            Character.INTERNATIONAL_TREATIES: rng.randint(40, 43),
        }[Character(spec.character)]

    def _deadline_offset(self, spec: Spec, rng: random.Random, period: int) -> int:
        stage = spec.stage
        if stage == Status.CANCELLED:
            stage = Status.PUBLISHED if spec.cancel_from == Status.PUBLISHED else Status.EVALUATED
            if spec.cancel_from == Status.PUBLISHED:
                return -rng.randint(5, 40)
        if stage == Status.PUBLISHED:
            return min(rng.randint(4, 14), period - 3)
        offset_days = {
            Status.DRAFT: 0,
            Status.CLOSED: -rng.randint(1, 4),
            Status.OPENED: -rng.randint(4, 9),
            Status.EVALUATED: -rng.randint(10, 16),
            Status.AWARDED: -rng.randint(14, 22),
            Status.DESERTED: -rng.randint(80, 110) if spec.followup else -rng.randint(25, 90),
            Status.CONTRACTED: -rng.randint(45, 120),
            Status.COMPLETED: -rng.randint(160, 215),
        }
        return offset_days[Status(stage)]

    def competitive(self, spec: Spec, rng: random.Random) -> Scenario:
        """Run a licitación or invitación from its creation to the stage of `spec`."""
        period = self._period(spec, rng)
        if spec.stage == Status.DRAFT:
            created = self.workday(rng, self.day(-rng.randint(1, 25)))
            yield created
            office = self.offices[spec.unit]
            p = self._create(spec, office)
            if spec.kind == IN:
                yield created + dt.timedelta(hours=2)
                proc.procedure_invite(actor=office.operator, procedure=p, rfcs=self._invitees(spec, rng))
            return
        final = self.day(self._deadline_offset(spec, rng, period), rng.choice((10, 11, 12)))
        deadline = final - dt.timedelta(days=7) if spec.amend else final
        published = self.workday(rng, deadline - dt.timedelta(days=period)) - dt.timedelta(hours=2)
        published = min(published, deadline - dt.timedelta(days=period))
        created = self.workday(rng, published - dt.timedelta(days=rng.randint(2, 6)))
        yield created
        office = self.offices[spec.unit]
        p = self._create(spec, office)
        invited: list[str] = []
        if spec.kind == IN:
            invited = self._invitees(spec, rng)
            yield created + dt.timedelta(hours=3)
            proc.procedure_invite(actor=office.operator, procedure=p, rfcs=invited)
        yield published
        p = proc.procedure_publish(
            actor=office.admin,
            procedure=p,
            submission_deadline=deadline,
            reduced_period_justification=spec.reduced,
            committee=office.committee,
            threshold=2,
        )
        horizon = min(final, self.real_now - dt.timedelta(hours=1))
        cancel_at = None
        if spec.stage == Status.CANCELLED and spec.cancel_from == Status.PUBLISHED:
            cancel_at = self.between(
                rng, published + dt.timedelta(days=3), min(deadline, horizon) - dt.timedelta(hours=2)
            )
            horizon = cancel_at
        events: list[tuple[dt.datetime, Callable[[], None]]] = []
        pool = self._bidders(spec, rng, invited)
        questions = list(QUESTIONS_GENERAL + QUESTIONS_BY_LAW[Law(spec.law)])
        rng.shuffle(questions)
        for question, answer in questions[: spec.questions]:
            asker = rng.choice(pool)
            asked = self.between(
                rng,
                published + dt.timedelta(hours=3),
                min(published + dt.timedelta(days=period / 3), horizon - dt.timedelta(hours=4)),
            )
            answered = self.between(
                rng, asked + dt.timedelta(hours=2), min(asked + dt.timedelta(days=2), horizon - dt.timedelta(hours=1))
            )
            events.append(
                (
                    asked,
                    partial(
                        self._ask,
                        p,
                        asker=asker,
                        question=question,
                        answer=answer,
                        office=office,
                        answered=answered,
                        events=events,
                    ),
                )
            )
        if spec.amend:
            amended = self.between(rng, published + dt.timedelta(days=1), published + dt.timedelta(days=3))
            events.append((amended, partial(self._amend, p, office, final)))
        bids_from = published + dt.timedelta(days=1)
        for party in pool:
            at = self.between(rng, bids_from, horizon - dt.timedelta(hours=1))
            events.append((at, self._bid(p, spec, party, rng)))
        if spec.replace_bid:
            at = self.between(rng, bids_from + dt.timedelta(days=period / 2), horizon - dt.timedelta(minutes=30))
            events.append((at, self._bid(p, spec, pool[0], rng, discount=Decimal("0.97"))))
        if spec.withdraw_bid:
            extra = next(party for party in self.parties[spec.sector] if party not in pool)
            at = self.between(rng, bids_from, horizon - dt.timedelta(days=2))
            events.append((at, self._bid(p, spec, extra, rng)))
            events.append((at + dt.timedelta(days=1), partial(self._withdraw, p, extra)))
        if cancel_at is not None:
            events.append((cancel_at, partial(self._cancel, p, office, spec.cancel_reason)))
        yield from self._run(events)
        if spec.stage in (Status.PUBLISHED, Status.CLOSED) or cancel_at is not None:
            return
        opened = final + dt.timedelta(hours=rng.randint(1, 3))
        yield opened
        shares = [self._claim(p, office.operator), self._claim(p, office.auditor)]
        p = bidding.bids_open(actor=office.operator, procedure=p, shares=shares)
        if spec.stage == Status.CANCELLED:
            yield self.workday(rng, opened + dt.timedelta(days=rng.randint(2, 4)))
            self._cancel(p, office, spec.cancel_reason)
            return
        if spec.stage == Status.OPENED:
            return
        evaluated = self.workday(rng, opened + dt.timedelta(days=rng.randint(2, 5)))
        yield evaluated
        p = bidding.bids_evaluate(actor=office.operator, procedure=p, evaluations=self._evaluations(p, spec, rng))
        if spec.stage == Status.EVALUATED:
            return
        fallo = self.workday(rng, evaluated + dt.timedelta(days=rng.randint(1, 3)))
        yield fallo
        p = proc.award_decide(actor=office.operator, procedure=p)
        if spec.stage == Status.DESERTED:
            if spec.followup is not None:
                yield from self.direct(
                    spec.followup, rng, start=fallo + dt.timedelta(days=rng.randint(4, 8)), ref=p.number
                )
            return
        if spec.stage == Status.AWARDED:
            return
        signed = self.workday(rng, fallo + dt.timedelta(days=rng.randint(3, 10)))
        yield from self._contracts(p, spec, office, rng, signed)

    def direct(self, spec: Spec, rng: random.Random, *, start: dt.datetime | None = None, ref: str = "") -> Scenario:
        """Run an adjudicación directa from its creation to the stage of `spec`."""
        if start is None:
            offset = {
                Status.DRAFT: rng.randint(1, 20),
                Status.CANCELLED: rng.randint(20, 80),
                Status.AWARDED: rng.randint(6, 14),
                Status.CONTRACTED: rng.randint(40, 130),
                Status.COMPLETED: rng.randint(125, 200),
            }[Status(spec.stage)]
            start = self.workday(rng, self.day(-offset))
        yield start
        office = self.offices[spec.unit]
        if ref:
            spec = replace(spec, justification=spec.justification.format(ref=ref))
        p = self._create(spec, office)
        if spec.stage == Status.DRAFT:
            return
        if spec.stage == Status.CANCELLED:
            yield self.workday(rng, start + dt.timedelta(days=rng.randint(1, 3)))
            self._cancel(p, office, spec.cancel_reason)
            return
        awarded = self.workday(rng, start + dt.timedelta(days=rng.randint(2, 5)))
        yield awarded
        winner = self._direct_winner(spec, rng)
        lots = [
            proc.DirectAwardLot(lot=n, value=_money(lot.estimated_value * Decimal(rng.uniform(0.93, 0.995))))
            for n, lot in enumerate(spec.lots, start=1)
        ]
        proc.award_direct(actor=office.operator, procedure=p, supplier_rfc=winner.supplier.rfc, lots=lots)
        if spec.stage == Status.AWARDED:
            return
        signed = self.workday(rng, awarded + dt.timedelta(days=rng.randint(2, 6)))
        yield from self._contracts(p, spec, office, rng, signed)

    def _direct_winner(self, spec: Spec, rng: random.Random) -> Party:
        parties = self.parties[spec.sector]
        if spec.person:
            parties = [party for party in parties if party.supplier.person_type == "fisica"] or parties
        return rng.choice(parties)

    def _invitees(self, spec: Spec, rng: random.Random) -> list[str]:
        parties = self.parties[spec.sector]
        count = min(len(parties), max(3, spec.bidders + 1))
        return [party.supplier.rfc for party in rng.sample(parties, count)]

    def _bidders(self, spec: Spec, rng: random.Random, invited: Sequence[str]) -> list[Party]:
        parties = self.parties[spec.sector]
        if invited:
            parties = [party for party in parties if party.supplier.rfc in invited]
        count = min(spec.bidders, len(parties) - (1 if spec.withdraw_bid else 0))
        return rng.sample(parties, count)

    # --- steps ---

    @staticmethod
    def _run(events: list[tuple[dt.datetime, Callable[[], None]]]) -> Scenario:
        """Yield each event's time and run it, in time order; events may add later events."""
        done = 0
        while done < len(events):
            events[done:] = sorted(events[done:], key=lambda e: e[0])
            at, action = events[done]
            yield at
            action()
            done += 1

    @staticmethod
    def _ask(
        p: Procedure,
        *,
        asker: Party,
        question: str,
        answer: str,
        office: Office,
        answered: dt.datetime,
        events: list[tuple[dt.datetime, Callable[[], None]]],
    ) -> None:
        clarification = proc.clarification_ask(
            actor=asker.rep, procedure=p, question=question, supplier_rfc=asker.supplier.rfc
        )
        events.append((answered, partial(Builder._answer, clarification, office, answer)))

    @staticmethod
    def _answer(clarification: Clarification, office: Office, answer: str) -> None:
        proc.clarification_answer(actor=office.operator, clarification=clarification, answer=answer)

    @staticmethod
    def _amend(p: Procedure, office: Office, new_deadline: dt.datetime) -> None:
        proc.procedure_amend(
            actor=office.operator,
            procedure=p,
            description=(
                "Modificación a la convocatoria derivada de la junta de aclaraciones: se precisan las cantidades del "
                "Anexo Técnico y se difiere el acto de presentación y apertura de proposiciones siete días naturales."
            ),
            submission_deadline=new_deadline,
        )

    def _bid(
        self, p: Procedure, spec: Spec, party: Party, rng: random.Random, discount: Decimal = Decimal(1)
    ) -> Callable[[], None]:
        numbers = list(range(1, len(spec.lots) + 1))
        # The first bidder prices every lot, so that every lot has a bid; others sometimes skip one.
        if len(numbers) > 1 and rng.random() < 0.3 and party is not self.first_bidder.get(p.pk):
            numbers.remove(rng.choice(numbers))
        self.first_bidder.setdefault(p.pk, party)
        prices = [
            bidding.BidLotInput(
                lot=n, price=_money(spec.lots[n - 1].estimated_value * Decimal(rng.uniform(0.8, 1.05)) * discount)
            )
            for n in numbers
        ]
        text = (
            f"Propuesta técnica de {party.supplier.name} (RFC {party.supplier.rfc}) para «{spec.title}». "
            "El licitante manifiesta cumplir con las especificaciones del Anexo Técnico y las normas aplicables."
        )
        documents = [
            bidding.BidDocumentInput(
                kind="technical",
                filename="propuesta-tecnica.txt",
                content_b64=base64.b64encode(text.encode()).decode(),
            )
        ]

        def submit() -> None:
            p.refresh_from_db()
            bidding.bid_submit(
                actor=party.rep, procedure=p, lots=prices, documents=documents, supplier_rfc=party.supplier.rfc
            )

        return submit

    @staticmethod
    def _withdraw(p: Procedure, party: Party) -> None:
        bid = p.bids.filter(supplier=party.supplier, status="submitted").get()
        bidding.bid_withdraw(actor=party.rep, bid=bid)

    @staticmethod
    def _cancel(p: Procedure, office: Office, reason: str) -> None:
        proc.procedure_cancel(actor=office.operator, procedure=p, reason=reason)

    def _claim(self, p: Procedure, custodian: User) -> str:
        claim = bidding.share_claim(actor=custodian, procedure=p)
        return crypto.share_unseal(
            custodian_private_key=self.private[custodian.pk],
            sealed=base64.b64decode(claim["sealed_share"]),
            context=base64.b64decode(claim["context"]),
        )

    def _evaluations(self, p: Procedure, spec: Spec, rng: random.Random) -> list[bidding.EvaluationInput]:
        from licita.bidding.models import BidLot, BidStatus  # noqa: PLC0415

        rows = list(
            BidLot.objects.filter(bid__procedure=p, bid__status=BidStatus.OPENED)
            .select_related("bid__supplier", "lot")
            .order_by("lot__number", "price")
        )
        reasons = DISQUALIFICATIONS[Law(spec.law)]
        by_lot: dict[int, list[Any]] = {}
        for row in rows:
            by_lot.setdefault(row.lot.number, []).append(row)
        result = []
        points = spec.method == EvaluationMethod.POINTS
        for number, lot_rows in by_lot.items():
            deserted = number in spec.desert_lots
            # Outside a desierta, one bid in a lot of three or more is sometimes disqualified, never the last one.
            loser = rng.choice(lot_rows[1:]) if not deserted and len(lot_rows) >= 3 and rng.random() < 0.5 else None
            for row in lot_rows:
                compliant = not deserted and row is not loser
                result.append(
                    bidding.EvaluationInput(
                        supplier_rfc=row.bid.supplier.rfc,
                        lot=number,
                        compliant=compliant,
                        reason="" if compliant else rng.choice(reasons),
                        technical_points=Decimal(rng.randint(46, 59)) if points else None,
                    )
                )
        return result

    def _contracts(
        self, p: Procedure, spec: Spec, office: Office, rng: random.Random, signed: dt.datetime
    ) -> Scenario:
        """Sign a contract per award, then execute it: milestones, payments, a convenio, completion."""
        yield signed
        completed = spec.stage == Status.COMPLETED
        contracts = []
        for i, award in enumerate(
            Award.objects.filter(procedure=p, status=AwardStatus.ACTIVE).order_by("lot__number")
        ):
            if i:
                yield signed + dt.timedelta(minutes=30 * i)
            start = signed.astimezone(MX).date() + dt.timedelta(days=rng.randint(1, 4))
            room = (self.today.date() - start).days
            if completed:
                # Room for a convenio's extension, the last payment and the completion before today.
                term = max(20, min(rng.randint(45, 120), room - 70))
            else:
                term = max(rng.randint(90, 240), room + rng.randint(30, 150))
            contracts.append(
                proc.contract_sign(
                    actor=office.operator,
                    award=award,
                    title=spec.title if len(spec.lots) == 1 else "",
                    start_date=start,
                    end_date=start + dt.timedelta(days=term),
                )
            )
        events: list[tuple[dt.datetime, Callable[[], None]]] = []
        limit = self.day(-1, 20)
        for contract in contracts:
            self._execution(
                contract, spec=spec, office=office, rng=rng, completed=completed, limit=limit, events=events
            )
        yield from self._run(events)

    def _execution(
        self,
        contract: Contract,
        *,
        spec: Spec,
        office: Office,
        rng: random.Random,
        completed: bool,
        limit: dt.datetime,
        events: list[tuple[dt.datetime, Callable[[], None]]],
    ) -> None:
        start = dt.datetime.combine(contract.start_date, dt.time(12), tzinfo=MX).astimezone(dt.UTC)
        end = dt.datetime.combine(contract.end_date, dt.time(12), tzinfo=MX).astimezone(dt.UTC)
        term = end - start
        signed_at = contract.date_signed + dt.timedelta(hours=1)
        titles = MILESTONES[ContractType(spec.contract_type)]
        for i, title in enumerate(titles, start=1):
            due = start + term * i / len(titles)
            if due <= limit:
                events.append(
                    (self.workday(rng, due), partial(self._milestone, contract, office, title, due, met=True))
                )
            else:
                events.append((signed_at, partial(self._milestone, contract, office, title, due, met=False)))
        cap = Decimal(20 if spec.law == Law.LAASSP else 25)
        increase = Decimal(0)
        if spec.convenio:
            # Midway through the contract, or through its elapsed part when it is still running.
            amended = self.workday(rng, start + min(term * 0.45, (limit - start) * 0.6))
            if start + dt.timedelta(days=7) <= amended <= limit:
                increase = _money(contract.value * Decimal(rng.randint(8, int(cap) - 2)) / 100)
                extension = dt.timedelta(days=rng.randint(20, 45)) if spec.law == Law.LOPSRM else None
                events.append((amended, partial(self._convenio, contract, spec, office, increase, extension)))
                if extension is not None:
                    end += extension
                    term = end - start
        months = max(1, round(term.days / 30))
        total = contract.value + increase
        monthly = _money(total / months)
        paid = Decimal(0)
        for k in range(1, months + 1):
            when = self.workday(rng, start + term * k / months + dt.timedelta(days=rng.randint(3, 10)))
            amount = total - paid if k == months else monthly
            if when > limit or amount <= 0:
                break
            paid += amount
            label = "Estimación" if spec.law == Law.LOPSRM else "Pago de factura"
            events.append((when, partial(self._pay, contract, office, amount, f"{label} {k} de {months}")))
        if completed:
            done = self.workday(rng, max(end, *(e[0] for e in events)) + dt.timedelta(days=rng.randint(2, 6)))
            events.append((done, partial(self._complete, contract, office)))

    @staticmethod
    def _milestone(contract: Contract, office: Office, title: str, due: dt.datetime, *, met: bool) -> None:
        proc.milestone_record(
            actor=office.operator, contract=contract, title=title, due_date=due.astimezone(MX).date(), met=met
        )

    @staticmethod
    def _convenio(
        contract: Contract, spec: Spec, office: Office, value: Decimal, extension: dt.timedelta | None
    ) -> None:
        contract.refresh_from_db()
        article = "artículo 52 de la LAASSP (20%)" if spec.law == Law.LAASSP else "artículo 59 de la LOPSRM (25%)"
        proc.contract_amend(
            actor=office.operator,
            contract=contract,
            description=f"Convenio modificatorio: ampliación del monto en {value:,.2f} pesos"
            + (f" y del plazo en {extension.days} días naturales" if extension else ""),
            rationale=(
                "Incremento de la demanda justificado por el área requirente mediante oficio; los precios unitarios se "
                f"mantienen y la ampliación no rebasa el límite del {article}."
            ),
            value_change=value,
            new_end_date=contract.end_date + extension if extension else None,
        )

    @staticmethod
    def _complete(contract: Contract, office: Office) -> None:
        proc.contract_complete(actor=office.operator, contract=contract)

    @staticmethod
    def _pay(contract: Contract, office: Office, amount: Decimal, description: str) -> None:
        proc.payment_record(actor=office.operator, contract=contract, amount=amount, description=description)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


_COMPANY_STOPWORDS = frozenset(
    {
        "DE",
        "DEL",
        "LA",
        "LAS",
        "LOS",
        "EL",
        "Y",
        "E",
        "EN",
        "PARA",
        "CON",
        "POR",
        "SA",
        "CV",
        "RL",
        "SC",
        "SAPI",
        "S",
        "A",
        "C",
        "V",
        "R",
        "L",
        "P",
        "I",
    }
)


def _ascii_upper(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.upper()) if c.isalnum() or c == " ")


def _company_letters(name: str) -> str:
    """Return the RFC letters of a company name (SAT's rule, simplified): initials of its first words."""
    core = name.split(",", maxsplit=1)[0]
    words = [w for w in _ascii_upper(core.replace(".", " ")).split() if w not in _COMPANY_STOPWORDS]
    if len(words) >= 3:
        return words[0][0] + words[1][0] + words[2][0]
    if len(words) == 2:
        return words[0][0] + words[1][:2]
    return words[0][:3]


def _person_letters(given: str, first_surname: str, second_surname: str) -> str:
    """Return the RFC letters of a person: surname initial and first inner vowel, second surname and name initials."""
    names = _ascii_upper(given).split()
    name = names[1] if len(names) > 1 and names[0] in {"MARIA", "JOSE", "MA", "J"} else names[0]
    surname = _ascii_upper(first_surname).replace(" ", "")
    vowel = next((c for c in surname[1:] if c in "AEIOU"), "X")
    return surname[0] + vowel + _ascii_upper(second_surname)[0] + name[0]


# --- The command -------------------------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Build a realistic demo data set (institutions, units, users, suppliers and some 50 procedures in every "
        "stage) through the services, on a simulated clock. Refuses to run on a database that already has data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing (successfully) when data already exists."
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed (default 2026); crypto keys always differ."
        )
        # --- continuity (issue 7) ---
        parser.add_argument(
            "--outage",
            action="store_true",
            help="Then replay July 2022 on the demo data: an outage, extensions, offline procedures (see README).",
        )
        # --- end continuity ---

    def handle(self, *_args: Any, **options: Any) -> None:
        existing = _existing_data()
        # --- continuity (issue 7): on existing demo data, --outage only replays the outage ---
        if existing and options["outage"]:
            self._outage()
            return
        # --- end continuity ---
        if existing:
            if options["if_empty"]:
                self.stdout.write(f"demo: the database already has data ({existing}); nothing done.")
                return
            msg = f"The database already has data ({existing}); the demo only runs on an empty database."
            raise CommandError(msg)
        password = os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD
        real_now = timezone.now()
        builder = Builder(seed=options["seed"], real_now=real_now, out=self.stdout.write)
        keys_path = Path(settings.VAR_DIR) / "demo" / KEYS_FILENAME
        # Prime every scenario (no database work before its first step) to learn where the timeline starts;
        # the institutions, users and suppliers are registered two weeks before the first procedure.
        heap: list[tuple[dt.datetime, int, str, Scenario]] = []
        counter = itertools.count()
        for label, gen in builder.scenarios():
            heapq.heappush(heap, (next(gen), next(counter), label, gen))
        first = heap[0][0]
        try:
            with transaction.atomic():
                clock.set_now(builder.workday(builder.rng, first - dt.timedelta(days=14)).replace(hour=15, minute=0))
                self.stdout.write("Institutions, units and officials …")
                builder.build_people()
                self.stdout.write("Suppliers …")
                builder.build_suppliers()
                builder.set_passwords(password)
                count = len(SPECS) + sum(1 for spec in SPECS if spec.followup)
                self.stdout.write(f"Procedures: simulating {count} procedures …")
                self._simulate(builder, heap, counter)
                clock.set_now(None)
                closed = proc.procedures_tick(actor=None)
                self.stdout.write(
                    f"  simulated from {first.astimezone(MX):%Y-%m-%d} to {builder.day(-1):%Y-%m-%d}; "
                    f"{closed} procedure(s) closed at their deadline"
                )
                _write_keys(keys_path, builder.keys, real_now)
        finally:
            clock.set_now(None)
        self._summary(builder, keys_path, password)
        if options["outage"]:  # continuity (issue 7)
            self._outage()

    def _outage(self) -> None:
        """Replay July 2022 on the demo data (licita/continuity/demo.py); continuity (issue 7)."""
        from licita.continuity.demo import replay  # noqa: PLC0415

        self.stdout.write("July 2022, replayed …")
        if settings.EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend":
            with transaction.atomic():
                replay(self.stdout.write)
            return
        # The development backend would print every notice to the bidders in full: count them instead.
        from django.core import mail  # noqa: PLC0415
        from django.test.utils import override_settings  # noqa: PLC0415

        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            with transaction.atomic():
                replay(self.stdout.write)
            sent = len(mail.outbox)
        self.stdout.write(
            f"  {sent} e-mail(s) told the invited and bidding suppliers of the extension (not shown: set"
            " LICITA_EMAIL_BACKEND to send them)"
        )

    @staticmethod
    def _simulate(
        builder: Builder, heap: list[tuple[dt.datetime, int, str, Scenario]], counter: Iterator[int]
    ) -> None:
        """Run the scenarios' steps in time order, moving the platform clock to each step."""
        now = clock.now()
        while heap:
            at, _n, label, gen = heapq.heappop(heap)
            if at < now or at >= builder.real_now:
                msg = f"demo timeline error in «{label}»: step at {at} (clock {now}, real now {builder.real_now})"
                raise CommandError(msg)
            now = at
            clock.set_now(at)
            try:
                following = gen.send(None)
            except StopIteration:
                checkpoint_tick()  # as the worker does while the log grows
                continue
            except LicitaError as error:
                msg = f"demo: «{label}» failed at {at:%Y-%m-%d %H:%M}: {error.message} {error.detail}"
                raise CommandError(msg) from error
            checkpoint_tick()
            heapq.heappush(heap, (following, next(counter), label, gen))

    def _summary(self, builder: Builder, keys_path: Path, password: str) -> None:
        procedures = Procedure.objects.all()
        by_type = Counter(procedures.values_list("procedure_type", flat=True))
        by_status = Counter(procedures.values_list("status", flat=True))
        self.stdout.write(self.style.SUCCESS(f"Demo data created: {procedures.count()} procedures"))
        self.stdout.write(
            "  by type: " + ", ".join(f"{ProcedureType(t).label} {by_type[t]}" for t in ProcedureType.values)
        )
        self.stdout.write("  by status: " + ", ".join(f"{s} {by_status[s]}" for s in Status.values))
        self.stdout.write(
            f"  {Supplier.objects.count()} suppliers, {User.objects.count()} users, "
            f"{TenderAmendment.objects.count()} tender amendments, {procedures.filter(clarifications__isnull=False).distinct().count()} "
            f"procedures with clarifications, {Award.objects.count()} awards, {Contract.objects.count()} contracts "
            f"({ContractAmendment.objects.count()} convenios, {Payment.objects.count()} payments, "
            f"{Milestone.objects.count()} milestones)"
        )
        self.stdout.write(f"Custodian private keys (DEMO ONLY, mode 0600): {keys_path}")
        shown = password if password == DEFAULT_PASSWORD else f"the value of {PASSWORD_ENV}"
        self.stdout.write(f"Demo users (password: {shown}):")
        self.stdout.write("  admin (platform administrator, Django superuser); auditor (auditor of every institution)")
        for key, office in builder.offices.items():
            self.stdout.write(
                f"  {key} {office.unit.institution.siglas}: {office.admin.username} (titular), "
                f"{office.operator.username} (operador), {office.auditor.username} (OIC)"
            )
        reps = [party for parties in builder.parties.values() for party in parties]
        self.stdout.write(
            f"  {len(reps)} supplier representatives, e.g. " + ", ".join(p.rep.username for p in reps[:4]) + " …"
        )
        for party in reps:
            self.stdout.write(f"    {party.rep.username:<22} {party.supplier.name}")


def _existing_data() -> str:
    counts = {
        "institutions": Institution.objects.count(),
        "suppliers": Supplier.objects.count(),
        "procedures": Procedure.objects.count(),
    }
    return ", ".join(f"{n} {name}" for name, n in counts.items() if n)


def _write_keys(path: Path, keys: dict[str, dict[str, str]], at: dt.datetime) -> None:
    """Write the demo custodians' private keys, readable by the owner only (written atomically)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = {
        "warning": "DEMO DATA ONLY: private X25519 custodian keys of the demo users. Never use these keys for real.",
        "created_at": at.isoformat(),
        "usage": (
            "As a committee member, POST /api/procedures/<number>/opening-key/share, then decrypt the share with "
            "licita.bidding.crypto.share_unseal(custodian_private_key=b64decode(private_key), "
            "sealed=b64decode(sealed_share), context=b64decode(context)); k shares open the bids."
        ),
        "custodians": keys,
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    tmp.chmod(0o600)
    tmp.replace(path)
