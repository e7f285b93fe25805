"""Vietnamese names for the generated province (Lạng Sơn): agencies, divisions, public
service units and their faculties, the 2025 merges, and rename variants.

A *family* groups agencies whose sub-units look alike: ``general`` (a department, sở),
``health`` (Sở Y tế), ``education`` (Sở Giáo dục và Đào tạo) and ``district`` (a district
people's committee, UBND huyện).
"""

from __future__ import annotations

PROVINCE_NAME = "UBND tỉnh Lạng Sơn"

AGENCIES: tuple[tuple[str, str], ...] = (
    ("Sở Nội vụ", "general"),
    ("Sở Tài chính", "general"),
    ("Sở Y tế", "health"),
    ("Sở Giáo dục và Đào tạo", "education"),
    ("Sở Kế hoạch và Đầu tư", "general"),
    ("Sở Nông nghiệp và Phát triển nông thôn", "general"),
    ("Sở Tài nguyên và Môi trường", "general"),
    ("UBND thành phố Lạng Sơn", "district"),
    ("Sở Xây dựng", "general"),
    ("Sở Giao thông vận tải", "general"),
    ("UBND huyện Cao Lộc", "district"),
    ("Sở Lao động - Thương binh và Xã hội", "general"),
    ("Sở Tư pháp", "general"),
    ("Sở Công Thương", "general"),
    ("Sở Văn hóa, Thể thao và Du lịch", "general"),
    ("Sở Khoa học và Công nghệ", "general"),
    ("Sở Thông tin và Truyền thông", "general"),
    ("Thanh tra tỉnh", "general"),
    ("Sở Ngoại vụ", "general"),
    ("Ban Dân tộc tỉnh", "general"),
    ("Văn phòng UBND tỉnh", "general"),
    ("UBND huyện Văn Lãng", "district"),
    ("UBND huyện Tràng Định", "district"),
    ("UBND huyện Bình Gia", "district"),
    ("UBND huyện Văn Quan", "district"),
    ("UBND huyện Bắc Sơn", "district"),
    ("UBND huyện Hữu Lũng", "district"),
    ("UBND huyện Chi Lăng", "district"),
    ("UBND huyện Lộc Bình", "district"),
    ("UBND huyện Đình Lập", "district"),
)

# Communes used once the catalogue above runs out (a 10x organisation).
COMMUNES = (
    "Hoàng Đồng",
    "Mai Pha",
    "Quảng Lạc",
    "Tân Thành",
    "Đồng Đăng",
    "Na Sầm",
    "Thất Khê",
    "Bình Gia",
    "Văn Quan",
    "Bắc Sơn",
    "Hữu Lũng",
    "Đồng Mỏ",
    "Lộc Bình",
    "Na Dương",
    "Đình Lập",
    "Thái Bình",
    "Chi Lăng",
    "Vân Nham",
    "Yên Bình",
    "Hòa Bình",
    "Tân Tiến",
    "Khánh Khê",
    "Hoàng Văn Thụ",
    "Tràng Định",
    "Quốc Khánh",
    "Kháng Chiến",
    "Xuân Dương",
    "Mẫu Sơn",
    "Công Sơn",
    "Ba Sơn",
    "Thụy Hùng",
    "Tân Văn",
    "Hồng Phong",
    "Thiện Long",
)

# (absorbed agency, surviving agency, new name of the surviving agency or None): the
# 2025 reorganisation of provincial departments.
MERGES: tuple[tuple[str, str, str | None], ...] = (
    ("Sở Kế hoạch và Đầu tư", "Sở Tài chính", None),
    (
        "Sở Tài nguyên và Môi trường",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Sở Nông nghiệp và Môi trường",
    ),
    ("Sở Giao thông vận tải", "Sở Xây dựng", None),
    ("Sở Lao động - Thương binh và Xã hội", "Sở Nội vụ", None),
    ("Sở Thông tin và Truyền thông", "Sở Khoa học và Công nghệ", None),
)

DIVISIONS: dict[str, tuple[str, ...]] = {
    "general": (
        "Văn phòng",
        "Thanh tra",
        "Phòng Tổ chức cán bộ",
        "Phòng Kế hoạch - Tài chính",
        "Phòng Pháp chế",
        "Phòng Quản lý chuyên ngành",
        "Phòng Nghiệp vụ",
        "Phòng Tổng hợp",
        "Phòng Chính sách",
        "Phòng Cải cách hành chính",
    ),
    "health": (
        "Văn phòng",
        "Thanh tra",
        "Phòng Tổ chức cán bộ",
        "Phòng Kế hoạch - Tài chính",
        "Phòng Nghiệp vụ Y",
        "Phòng Nghiệp vụ Dược",
        "Phòng Quản lý hành nghề",
    ),
    "education": (
        "Văn phòng",
        "Thanh tra",
        "Phòng Tổ chức cán bộ",
        "Phòng Kế hoạch - Tài chính",
        "Phòng Giáo dục Trung học",
        "Phòng Giáo dục Mầm non và Tiểu học",
        "Phòng Quản lý chất lượng",
        "Phòng Giáo dục thường xuyên",
    ),
    "district": (
        "Văn phòng HĐND và UBND",
        "Phòng Nội vụ",
        "Phòng Tài chính - Kế hoạch",
        "Phòng Giáo dục và Đào tạo",
        "Phòng Y tế",
        "Phòng Tư pháp",
        "Phòng Tài nguyên và Môi trường",
        "Phòng Lao động - Thương binh và Xã hội",
        "Phòng Văn hóa và Thông tin",
        "Phòng Kinh tế và Hạ tầng",
        "Phòng Dân tộc",
    ),
}

PUBLIC_SERVICE_UNITS: dict[str, tuple[str, ...]] = {
    "general": (
        "Trung tâm Công nghệ thông tin",
        "Trung tâm Dịch vụ công",
        "Trung tâm Xúc tiến Đầu tư",
        "Trung tâm Lưu trữ lịch sử",
        "Trung tâm Khuyến nông",
        "Trung tâm Dịch vụ việc làm",
        "Trung tâm Trợ giúp pháp lý",
        "Ban Quản lý dự án",
        "Trung tâm Kiểm định chất lượng",
    ),
    "health": (
        "Bệnh viện Đa khoa tỉnh",
        "Bệnh viện Y học cổ truyền",
        "Bệnh viện Phổi",
        "Trung tâm Kiểm soát bệnh tật",
        "Bệnh viện Phục hồi chức năng",
        "Trung tâm Pháp y",
    ),
    "education": (
        "Trường THPT Chuyên Chu Văn An",
        "Trường THPT Việt Bắc",
        "Trường THPT Hoàng Văn Thụ",
        "Trường Phổ thông Dân tộc nội trú tỉnh",
        "Trường THPT Lộc Bình",
        "Trường THPT Cao Lộc",
        "Trường Cao đẳng Sư phạm Lạng Sơn",
    ),
    "district": (
        "Trung tâm Y tế",
        "Trung tâm Văn hóa, Thể thao và Truyền thông",
        "Ban Quản lý dự án đầu tư xây dựng",
        "Trường THCS thị trấn",
        "Trường Tiểu học thị trấn",
        "Trung tâm Dịch vụ nông nghiệp",
    ),
}

PSU_DIVISIONS: dict[str, tuple[str, ...]] = {
    "general": (
        "Phòng Hành chính - Tổng hợp",
        "Phòng Nghiệp vụ",
        "Phòng Kỹ thuật",
        "Phòng Dịch vụ",
        "Phòng Kế toán",
    ),
    "health": (
        "Khoa Khám bệnh",
        "Khoa Nội tổng hợp",
        "Khoa Ngoại",
        "Khoa Sản",
        "Khoa Nhi",
        "Khoa Hồi sức cấp cứu",
        "Khoa Dược",
        "Phòng Kế hoạch tổng hợp",
        "Phòng Điều dưỡng",
    ),
    "education": (
        "Tổ Toán - Tin",
        "Tổ Ngữ văn",
        "Tổ Ngoại ngữ",
        "Tổ Khoa học tự nhiên",
        "Tổ Lịch sử - Địa lý - GDCD",
        "Tổ Văn phòng",
    ),
    "district": (
        "Phòng Hành chính - Tổng hợp",
        "Khoa Khám bệnh",
        "Tổ Chuyên môn",
        "Phòng Nghiệp vụ",
    ),
}

# Women's share of staff by family (the sector matters: schools and hospitals employ more
# women than departments).
FEMALE_SHARE = {"general": 0.45, "health": 0.66, "education": 0.70, "district": 0.44}

RENAMES = {
    "Phòng Kế hoạch - Tài chính": "Phòng Kế hoạch, Tài chính và Tổng hợp",
    "Phòng Nghiệp vụ": "Phòng Nghiệp vụ và Chuyển đổi số",
    "Văn phòng": "Văn phòng Sở",
    "Phòng Tổng hợp": "Phòng Tổng hợp - Thi đua",
    "Trung tâm Công nghệ thông tin": "Trung tâm Chuyển đổi số",
    "Phòng Dịch vụ": "Phòng Dịch vụ công",
}


def agency_name(index: int) -> tuple[str, str]:
    """The name and family of the ``index``-th agency under the province."""
    if index < len(AGENCIES):
        return AGENCIES[index]
    extra = index - len(AGENCIES)
    if extra < len(COMMUNES):
        return f"UBND xã {COMMUNES[extra]}", "district"
    return f"Ban Quản lý dự án đầu tư xây dựng số {extra - len(COMMUNES) + 1}", "general"


def renamed(name: str) -> str:
    """The name a unit takes on a rename."""
    return RENAMES.get(name, f"{name} (kiện toàn)")
